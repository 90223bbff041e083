package io.prefstream.publisher;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.testkit.KafkaBroker;
import io.prefstream.testkit.RecordCounter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A model topic with 50 versions: readers of the newest read that version's records, not the history. */
class ModelTopicHistoryTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final Map<String, Object> SERDE = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://model-topic-history");
  private static final String TOPIC = "it-model.history";
  private static final int VERSIONS = 50;
  /** Records of one version: 3000 + 2 small files in 1000-byte chunks, then the manifest. */
  private static final int RECORDS_PER_VERSION = 3 + 1 + 1 + 1;

  @TempDir static Path sources;
  @TempDir Path tmp;

  @BeforeAll
  static void fiftyVersions() throws Exception {
    broker.createTopic(TOPIC, 1);
    Map<String, Object> props = new HashMap<>(broker.producerProps());
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "history-trainer");
    try (var producer = new KafkaProducer<String, SpecificRecord>(props, new StringSerializer(), ModelTopic.serializer(SERDE))) {
      producer.initTransactions();
      CheckpointPublisher publisher = new CheckpointPublisher(TOPIC, new CheckpointCutter(1000), ManifestSigner.NONE);
      for (long v = 1; v <= VERSIONS; v++) {
        Path folder = Fixtures.folder(sources.resolve("v" + v), 3000, v);
        producer.beginTransaction();
        publisher.publish(producer, folder, null, Fixtures.manifest("m", v, 0.9));
        producer.commitTransaction();
      }
    }
  }

  private static KafkaConsumer<String, SpecificRecord> countingConsumer() {
    Map<String, Object> props = new HashMap<>(broker.consumerProps("history-reader"));
    props.putAll(SERDE);
    props.putAll(RecordCounter.props());
    return new KafkaConsumer<>(props, new StringDeserializer(), ModelTopic.deserializer(SERDE));
  }

  @Test
  void theNewestCheckpoint_readsOnlyItsOwnRecords() throws Exception {
    long before = RecordCounter.count(TOPIC);
    try (var consumer = countingConsumer(); var assembler = new CheckpointAssembler(Optional.empty(), tmp.resolve("work"), PendingChunks.Limits.DEFAULT);
        Checkpoint newest = new ModelTopicReader(consumer, TOPIC).checkpoint("m", Optional.empty(), assembler, ManifestFilter.ANY).orElseThrow()) {
      assertThat(newest.version()).isEqualTo(VERSIONS);
      assertThat(newest.serving().resolve("model.safetensors")).hasSameBinaryContentAs(sources.resolve("v" + VERSIONS + "/model.safetensors"));
    }
    long read = RecordCounter.count(TOPIC) - before;
    assertThat(read).as("records read of %d on the topic", VERSIONS * RECORDS_PER_VERSION)
        .isLessThanOrEqualTo(RECORDS_PER_VERSION + 1); // its chunks and manifest, the manifest found once more reading back
  }

  @Test
  void aNewRolloutAgent_readsOnlyTheNewestVersionsRecords() throws Exception {
    long before = RecordCounter.count(TOPIC);
    VersionFolders folders = new VersionFolders(tmp.resolve("serve"));
    RolloutAgent agent = new RolloutAgent("m", folders, Optional.empty(), PendingChunks.Limits.DEFAULT, OptionalDouble.empty(), 3, ServingNotifier.NONE);
    Map<String, Object> props = new HashMap<>(broker.consumerProps("history-agent"));
    props.putAll(RecordCounter.props());
    try (Follower follower = new Follower(agent, props, SERDE, TOPIC)) {
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() -> folders.current().isPresent());
    }
    assertThat(folders.current()).contains((long) VERSIONS);
    assertThat(RecordCounter.count(TOPIC) - before).isLessThanOrEqualTo(RECORDS_PER_VERSION + 1);
  }

  @Test
  void aGivenVersion_isFoundBackwards_andAssembledFromItsOwnChunks() throws Exception {
    try (var consumer = countingConsumer(); var assembler = new CheckpointAssembler(Optional.empty(), tmp.resolve("work"), PendingChunks.Limits.DEFAULT);
        Checkpoint v45 = new ModelTopicReader(consumer, TOPIC).checkpoint("m", Optional.of(45L), assembler, ManifestFilter.ANY).orElseThrow()) {
      CheckpointManifest m = v45.manifest();
      assertThat(m.getVersion()).isEqualTo(45);
      assertThat(v45.serving().resolve("model.safetensors")).hasSameBinaryContentAs(sources.resolve("v45/model.safetensors"));
    }
  }
}
