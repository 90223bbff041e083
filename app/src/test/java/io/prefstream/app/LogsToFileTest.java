package io.prefstream.app;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class LogsToFileTest {

  @Test
  void whileOpen_kafkasLogLinesGoToTheFileOnly_afterwardsToTheConsoleAgain(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("demo.log");
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    PrintStream previousErr = System.err;
    System.setErr(new PrintStream(console, true, UTF_8)); // logback's console appender writes to System.err
    try {
      try (LogsToFile logs = LogsToFile.open(file)) {
        LoggerFactory.getLogger("org.apache.kafka.clients.NetworkClient").warn("broker at localhost:9092 gone");
      }
      LoggerFactory.getLogger("org.apache.kafka.clients.NetworkClient").warn("after the demo");
    } finally {
      System.setErr(previousErr);
    }
    assertThat(Files.readString(file)).contains("WARN", "kafka.clients.NetworkClient", "broker at localhost:9092 gone")
        .doesNotContain("after the demo");
    assertThat(console.toString(UTF_8)).doesNotContain("broker at localhost:9092 gone").contains("after the demo");
  }
}
