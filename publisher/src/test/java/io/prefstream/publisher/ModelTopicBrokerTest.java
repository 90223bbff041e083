package io.prefstream.publisher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.testkit.KafkaBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints through a real broker, in transactions, to a rollout agent. */
class ModelTopicBrokerTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final Map<String, Object> SERDE = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://model-topic-test");

  @TempDir Path tmp;

  @Test
  void twentyMegabyteCheckpoint_roundTripsByteIdentical_andAnAbortedPublishNeverAppears() throws Exception {
    String topic = "it-model.checkpoints";
    try (Admin admin = Admin.create(broker.adminProps())) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(Map.of("max.message.bytes", String.valueOf(4 << 20))))).all().get();
    }
    Path v1 = Fixtures.folder(tmp.resolve("v1"), 20 * 1024 * 1024, 1);
    Path v2 = Fixtures.folder(tmp.resolve("v2"), 1024, 2);
    CheckpointCutter cutter = new CheckpointCutter(CheckpointCutter.DEFAULT_CHUNK_BYTES);
    CheckpointPublisher publisher = new CheckpointPublisher(topic);

    Map<String, Object> producerProps = new HashMap<>(broker.producerProps());
    producerProps.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "model-topic-test");
    producerProps.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 << 20);
    try (var producer = new KafkaProducer<>(producerProps, new StringSerializer(), ModelTopic.serializer(SERDE))) {
      producer.initTransactions();
      producer.beginTransaction();
      publisher.publish(producer, cutter.cut(v1, null, Fixtures.manifest("m", 1, 0.9)));
      producer.commitTransaction();
      producer.beginTransaction();
      publisher.publish(producer, cutter.cut(v2, null, Fixtures.manifest("m", 2, 0.9)));
      producer.flush();
      producer.abortTransaction();
    }

    VersionFolders folders = new VersionFolders(tmp.resolve("serve"));
    RolloutAgent agent = new RolloutAgent("m", folders, new CheckpointAssembler(Optional.empty()), OptionalDouble.empty(), 3, ServingNotifier.NONE);
    AtomicBoolean running = new AtomicBoolean(true);
    Thread follower = new Thread(() -> {
      try (var consumer = new KafkaConsumer<>(broker.consumerProps("rollout-test"), new StringDeserializer(), ModelTopic.deserializer(SERDE))) {
        consumer.subscribe(List.of(topic));
        agent.run(consumer, running::get);
      }
    });
    follower.start();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> folders.current().isPresent());
      assertThat(folders.current()).contains(1L);
      assertThat(tmp.resolve("serve/1/model.safetensors")).hasSameBinaryContentAs(v1.resolve("model.safetensors"));
      // a later committed version shows the agent has read past the aborted one
      try (var producer = new KafkaProducer<>(producerProps, new StringSerializer(), ModelTopic.serializer(SERDE))) {
        producer.initTransactions();
        producer.beginTransaction();
        publisher.publish(producer, cutter.cut(Fixtures.folder(tmp.resolve("v3"), 1024, 3), null, Fixtures.manifest("m", 3, 0.9)));
        producer.commitTransaction();
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> folders.current().equals(Optional.of(3L)));
      assertThat(folders.versions()).containsExactly(1L, 3L); // v2's transaction was aborted
    } finally {
      running.set(false);
      follower.join(10_000);
    }
  }
}
