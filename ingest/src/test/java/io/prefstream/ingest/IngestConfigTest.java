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

  @Test
  void recordLimit_plusTheHeadroom_mustFitTheProducersRequest_orIngestRefusesToStart() {
    IngestConfig defaults = IngestConfig.parse(Map.of());
    assertThat(defaults.limits().maxRecordBytes() + IngestConfig.RECORD_HEADROOM_BYTES).isEqualTo(defaults.maxRequestBytes());
    assertThatThrownBy(() -> IngestConfig.parse(Map.of(IngestConfig.MAX_RECORD_BYTES, String.valueOf(1 << 20)))).isInstanceOf(ConfigException.class)
        .hasMessageContaining(IngestConfig.MAX_RECORD_BYTES + " (1048576)").hasMessageContaining("max.request.size (1048576)")
        .hasMessageContaining("at most " + ((1 << 20) - IngestConfig.RECORD_HEADROOM_BYTES));
    IngestConfig raised = IngestConfig.parse(Map.of(IngestConfig.MAX_RECORD_BYTES, String.valueOf(1 << 20), "producer.max.request.size", String.valueOf(2 << 20)));
    assertThat(raised.limits().maxRecordBytes()).isEqualTo(1 << 20);
  }
}
