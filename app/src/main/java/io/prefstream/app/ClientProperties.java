package io.prefstream.app;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/** A Kafka client properties file (SASL, TLS, anything a client takes), read as it is. */
final class ClientProperties {
  private ClientProperties() {}

  /** The file's properties; none when the path is null. */
  static Map<String, Object> load(Path file) {
    Map<String, Object> props = new HashMap<>();
    if (file == null) return props;
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(file)) {
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read client properties " + file, e);
    }
    p.forEach((k, v) -> props.put(k.toString(), v));
    return props;
  }
}
