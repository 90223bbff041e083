package io.prefstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

class IngestConfigTest {

  @Test
  void stateDir_defaultsUnderTheHomeFolder_neverTheOsTempFolder() {
    IngestConfig config = IngestConfig.parse(Map.of());
    Path stateDir = config.stateDir();
    assertThat(stateDir).isEqualTo(Path.of(System.getProperty("user.home"), ".prefstream", "state", "prefstream-ingest"));
    assertThat(stateDir.toString()).doesNotStartWith(System.getProperty("java.io.tmpdir"));
  }

  @Test
  void stateDir_setInTheProperties_wins() {
    IngestConfig config = IngestConfig.parse(Map.of(StreamsConfig.STATE_DIR_CONFIG, "/srv/ingest", StreamsConfig.APPLICATION_ID_CONFIG, "a"));
    assertThat(config.stateDir()).isEqualTo(Path.of("/srv/ingest", "a"));
    assertThat(config.streamsProperties()).containsEntry(StreamsConfig.STATE_DIR_CONFIG, "/srv/ingest");
  }
}
