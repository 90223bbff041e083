package io.prefstream.publisher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SigningKeysTest {
  @TempDir Path tmp;

  @Test
  void written_readBackFromThePrivateKeyAlone() {
    KeyPair made = SigningKeys.generate();
    SigningKeys.write(made, tmp, tmp.resolve("public"));
    KeyPair read = SigningKeys.read(tmp.resolve(SigningKeys.PRIVATE_FILE));
    assertThat(read.getPublic().getEncoded()).isEqualTo(made.getPublic().getEncoded());
    assertThat(ManifestSignature.readPublicKey(tmp.resolve("public").resolve(SigningKeys.PUBLIC_FILE)).getEncoded()).isEqualTo(made.getPublic().getEncoded());
  }

  @Test
  void write_neverOverwritesAKey() {
    SigningKeys.write(SigningKeys.generate(), tmp, tmp);
    assertThatThrownBy(() -> SigningKeys.write(SigningKeys.generate(), tmp, tmp)).hasMessageContaining("never overwritten");
  }

  @Test
  void opensslKey_givesOpensslsPublicKey() throws Exception {
    Path key = tmp.resolve("openssl.pem");
    Path pub = tmp.resolve("openssl.pub.pem");
    assumeThat(run("openssl", "genpkey", "-algorithm", "ed25519", "-out", key.toString())).as("openssl is installed").isZero();
    assertThat(run("openssl", "pkey", "-in", key.toString(), "-pubout", "-out", pub.toString())).isZero();
    assertThat(SigningKeys.read(key).getPublic().getEncoded()).isEqualTo(ManifestSignature.readPublicKey(pub).getEncoded());
  }

  @Test
  void notAKey_isAClearError() throws Exception {
    Path garbage = Files.writeString(tmp.resolve("garbage.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    assertThatThrownBy(() -> SigningKeys.read(garbage)).hasMessageContaining("garbage.pem").hasMessageContaining("not an Ed25519 private key");
  }

  private static int run(String... command) throws Exception {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    } catch (java.io.IOException e) {
      return -1; // not installed
    }
  }
}
