package io.prefstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.testkit.KafkaBroker;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class IngestCommandTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();

  @Test
  void missingTopics_areNamedWithTheFix(@TempDir Path tmp) throws IOException {
    Path config = tmp.resolve("ingest.properties");
    Files.writeString(config, "bootstrap.servers=" + broker.bootstrapServers() + "\nfeedback.pairs.topic=no.such.topic\nmetrics.port=-1\n");
    Cli cli = Cli.run("ingest", "--config", config.toString());
    assertThat(cli.exitCode()).isEqualTo(1);
    assertThat(cli.err()).contains("no.such.topic").contains("do not exist").contains("prefstream topics create");
  }

  @Test
  void unreachableBroker_isOneClearError(@TempDir Path tmp) throws IOException {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    Path config = tmp.resolve("ingest.properties");
    Files.writeString(config, "bootstrap.servers=localhost:" + closedPort + "\nmetrics.port=-1\ndefault.api.timeout.ms=2000\nrequest.timeout.ms=2000\n");
    Cli cli = Cli.run("ingest", "--config", config.toString());
    assertThat(cli.exitCode()).isEqualTo(1);
    assertThat(cli.err()).contains("localhost:" + closedPort);
  }
}
