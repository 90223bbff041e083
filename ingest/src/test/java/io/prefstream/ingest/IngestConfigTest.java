package io.prefstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
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

  @Test
  void streamsTuning_reachesKafkaStreamsWithIngestsDefaults_andTheUsersValueWins() {
    assertThat(IngestConfig.parse(Map.of()).streamsProperties())
        .containsEntry(IngestConfig.COMMIT_INTERVAL_MS, 1_000L)
        .containsEntry(IngestConfig.MAX_TASK_IDLE_MS, -1L)
        .containsEntry(IngestConfig.PRODUCER_BATCH_SIZE, 16_384)
        .containsEntry(IngestConfig.PRODUCER_LINGER_MS, 100L)
        .containsEntry(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    assertThat(IngestConfig.parse(Map.of(IngestConfig.COMMIT_INTERVAL_MS, "100")).streamsProperties()).containsEntry(IngestConfig.COMMIT_INTERVAL_MS, 100L);
    assertThatThrownBy(() -> IngestConfig.parse(Map.of(IngestConfig.COMMIT_INTERVAL_MS, "0"))).isInstanceOf(ConfigException.class)
        .hasMessageContaining(IngestConfig.COMMIT_INTERVAL_MS);
  }
}
