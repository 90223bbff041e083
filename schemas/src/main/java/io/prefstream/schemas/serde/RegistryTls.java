package io.prefstream.schemas.serde;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/** TLS material for the registry connection: Confluent's {@code schema.registry.ssl.*} keys. */
public record RegistryTls(
    Optional<Store> truststore, Optional<Store> keystore, Optional<String> keyPassword) {

  /** A key or trust store file. */
  public record Store(Path location, String password, String type) {}

  static final String PREFIX = "schema.registry.ssl.";

  static ConfigDef define(ConfigDef def) {
    for (String store : new String[] {"truststore", "keystore"}) {
      def.define(PREFIX + store + ".location", Type.STRING, "", Importance.MEDIUM, "Path of the registry client's " + store + "; empty for none.")
          .define(PREFIX + store + ".password", Type.PASSWORD, "", Importance.MEDIUM, "Password of the " + store + ".")
          .define(PREFIX + store + ".type", Type.STRING, "JKS", Importance.LOW, "Type of the " + store + " (JKS or PKCS12).");
    }
    return def.define(PREFIX + "key.password", Type.PASSWORD, "", Importance.LOW, "Password of the private key in the keystore.");
  }

  static RegistryTls from(AbstractConfig c) {
    Password keyPassword = c.getPassword(PREFIX + "key.password");
    return new RegistryTls(store(c, "truststore"), store(c, "keystore"),
        keyPassword.value().isEmpty() ? Optional.empty() : Optional.of(keyPassword.value()));
  }

  private static Optional<Store> store(AbstractConfig c, String name) {
    String location = c.getString(PREFIX + name + ".location");
    if (location.isEmpty()) return Optional.empty();
    return Optional.of(new Store(Path.of(location), c.getPassword(PREFIX + name + ".password").value(), c.getString(PREFIX + name + ".type")));
  }

  /** The SSL context for HTTPS to the registry, or the JVM's default when nothing is configured. */
  SSLContext sslContext() {
    try {
      if (truststore.isEmpty() && keystore.isEmpty()) return SSLContext.getDefault();
      TrustManagerFactory tmf = null;
      if (truststore.isPresent()) {
        tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(load(truststore.get()));
      }
      KeyManagerFactory kmf = null;
      if (keystore.isPresent()) {
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(load(keystore.get()), keyPassword.orElse(keystore.get().password()).toCharArray());
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new ConfigException("schema.registry.ssl.*: cannot set up TLS: " + e.getMessage());
    }
  }

  private static KeyStore load(Store store) throws GeneralSecurityException, IOException {
    KeyStore ks = KeyStore.getInstance(store.type());
    try (InputStream in = Files.newInputStream(store.location())) {
      ks.load(in, store.password().toCharArray());
    }
    return ks;
  }
}
