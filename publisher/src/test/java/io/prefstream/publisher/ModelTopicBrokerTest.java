package io.prefstream.publisher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prefstream.schemas.CheckpointChunk;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.testkit.KafkaBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Random;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints through a real broker, in transactions, to rollout agents. */
class ModelTopicBrokerTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final Map<String, Object> SERDE = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://model-topic-test");
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path tmp;

  private KafkaProducer<String, SpecificRecord> producer(String transactionalId) {
    Map<String, Object> props = new HashMap<>(broker.producerProps());
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 << 20);
    KafkaProducer<String, SpecificRecord> producer = new KafkaProducer<>(props, new StringSerializer(), ModelTopic.serializer(SERDE));
    producer.initTransactions();
    return producer;
  }

  /** Publishes one version in its own transaction, as the trainer does. */
  private CheckpointManifest publish(KafkaProducer<String, SpecificRecord> producer, String topic, ManifestSigner signer, long version, double accuracy) throws Exception {
    Path folder = Fixtures.folder(tmp.resolve("src-" + topic + "-" + version), 3000, version);
    producer.beginTransaction();
    CheckpointManifest m = new CheckpointPublisher(topic, new CheckpointCutter(1000), signer).publish(producer, folder, null, Fixtures.manifest("m", version, accuracy));
    producer.commitTransaction();
    return m;
  }

  private RolloutAgent agent(Path dir, Optional<KeyPair> key, ServingNotifier notifier) {
    return new RolloutAgent("m", new VersionFolders(dir), key.map(KeyPair::getPublic), PendingChunks.Limits.DEFAULT, OptionalDouble.empty(), 5, notifier);
  }

  private Follower follow(RolloutAgent agent, String topic) {
    return new Follower(agent, broker.consumerProps("unused"), SERDE, topic);
  }

  @Test
  void twentyMegabyteCheckpoint_roundTripsByteIdentical_andAnAbortedPublishNeverAppears() throws Exception {
    String topic = "it-model.checkpoints";
    try (Admin admin = Admin.create(broker.adminProps())) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(Map.of("max.message.bytes", String.valueOf(4 << 20))))).all().get();
    }
    Path v1 = Fixtures.folder(tmp.resolve("v1"), 20 * 1024 * 1024, 1);
    Path v2 = Fixtures.folder(tmp.resolve("v2"), 1024, 2);
    CheckpointPublisher publisher = new CheckpointPublisher(topic, new CheckpointCutter(CheckpointCutter.DEFAULT_CHUNK_BYTES), ManifestSigner.NONE);
    try (var producer = producer("model-topic-test")) {
      producer.beginTransaction();
      publisher.publish(producer, v1, null, Fixtures.manifest("m", 1, 0.9));
      producer.commitTransaction();
      producer.beginTransaction();
      publisher.publish(producer, v2, null, Fixtures.manifest("m", 2, 0.9));
      producer.flush();
      producer.abortTransaction();
    }

    VersionFolders folders = new VersionFolders(tmp.resolve("serve"));
    try (Follower follower = follow(agent(tmp.resolve("serve"), Optional.empty(), ServingNotifier.NONE), topic)) {
      await().atMost(WAIT).until(() -> folders.current().isPresent());
      assertThat(folders.current()).contains(1L);
      assertThat(tmp.resolve("serve/1/model.safetensors")).hasSameBinaryContentAs(v1.resolve("model.safetensors"));
      // a later committed version shows the agent has read past the aborted one
      try (var producer = producer("model-topic-test")) {
        producer.beginTransaction();
        publisher.publish(producer, Fixtures.folder(tmp.resolve("v3"), 1024, 3), null, Fixtures.manifest("m", 3, 0.9));
        producer.commitTransaction();
      }
      await().atMost(WAIT).until(() -> folders.current().equals(Optional.of(3L)));
      assertThat(folders.versions()).containsExactly(1L, 3L); // v2's transaction was aborted
    }
  }

  @Test
  void signedVersionsRollOut_forgeryGarbageAndReplayAreRefused_theNextGenuineOneStillComes_andARestartRunsNoHookAgain() throws Exception {
    String topic = "it-model.trust";
    broker.createTopic(topic, 1);
    KeyPairGenerator gen = KeyPairGenerator.getInstance("Ed25519");
    KeyPair trainerKey = gen.generateKeyPair();
    KeyPair otherKey = gen.generateKeyPair();
    ManifestSigner signer = ManifestSigner.ed25519(trainerKey.getPrivate(), trainerKey.getPublic());
    Path hookLog = tmp.resolve("hook.log");
    Files.writeString(hookLog, "");
    ServingNotifier hook = new HookNotifier("echo $PREFSTREAM_VERSION >> " + hookLog);
    VersionFolders served = new VersionFolders(tmp.resolve("serve"));
    VersionFolders otherServed = new VersionFolders(tmp.resolve("serve-other-key"));

    try (var trainer = producer("trust-trainer"); LogLines log = new LogLines()) {
      publish(trainer, topic, signer, 1, 0.8);
      CheckpointManifest v2 = publish(trainer, topic, signer, 2, 0.8);
      Follower agent = follow(agent(tmp.resolve("serve"), Optional.of(trainerKey), hook), topic);
      try (Follower other = follow(agent(tmp.resolve("serve-other-key"), Optional.of(otherKey), ServingNotifier.NONE), topic)) {
        await().atMost(WAIT).until(() -> served.current().equals(Optional.of(2L)));
        await().atMost(WAIT).until(() -> log.lines().stream().anyMatch(l -> l.contains("read the model topic to its end; current is none")));
        assertThat(otherServed.versions()).isEmpty(); // another key serves nothing
        assertThat(log.lines()).anyMatch(l -> l.contains("refused checkpoint") && l.contains("signature does not verify"));

        // a forged "next version": v2's chunks relabelled v3, then v2's manifest as v3 with better metrics and v2's signature
        List<ConsumerRecord<String, byte[]>> v1Records = raw(topic, 0, v2.getFirstChunkOffset());
        try (var attacker = new KafkaProducer<>(broker.producerProps(), new ByteArraySerializer(), new ByteArraySerializer());
            var forger = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()), new StringSerializer(), ModelTopic.serializer(SERDE))) {
          for (ConsumerRecord<String, byte[]> r : raw(topic, v2.getFirstChunkOffset(), Long.MAX_VALUE)) {
            SpecificRecord value = (SpecificRecord) ModelTopic.deserializer(SERDE).deserialize(topic, r.value());
            if (value instanceof CheckpointChunk c && c.getVersion() == 2) forger.send(new ProducerRecord<>(topic, "m", CheckpointChunk.newBuilder(c).setVersion(3).build()));
          }
          Map<String, Double> better = new LinkedHashMap<>(v2.getMetrics());
          better.put(RolloutAgent.ACCURACY_METRIC, 0.99);
          forger.send(new ProducerRecord<>(topic, "m", CheckpointManifest.newBuilder(v2).setVersion(3).setParentVersion(2L).setMetrics(better).build())).get();
          // a garbage record: the magic byte, a schema id, then random bytes
          byte[] garbage = new byte[64];
          new Random(7).nextBytes(garbage);
          garbage[0] = 0;
          attacker.send(new ProducerRecord<>(topic, "m".getBytes(), garbage)).get();
          // a replay of v1, byte for byte
          for (ConsumerRecord<String, byte[]> r : v1Records) attacker.send(new ProducerRecord<>(topic, "m".getBytes(), r.value())).get();
        }
        await().atMost(WAIT).until(() -> log.lines().stream().anyMatch(l -> l.contains("ignored m v1") && l.contains("not newer than v2")));
        assertThat(log.lines())
            .anyMatch(l -> l.contains("refused checkpoint") && l.contains("m v3: signature does not verify"))
            .anyMatch(l -> l.contains("skipped undecodable record at " + topic + "-0@"));
        assertThat(served.current()).contains(2L);

        publish(trainer, topic, signer, 3, 0.8);
        await().atMost(WAIT).until(() -> served.current().equals(Optional.of(3L)));
        assertThat(tmp.resolve("serve/3/model.safetensors")).hasSameBinaryContentAs(tmp.resolve("src-" + topic + "-3/model.safetensors"));
        assertThat(otherServed.versions()).isEmpty();
      }
      agent.close();
      assertThat(Files.readAllLines(hookLog)).containsExactly("2", "3");

      int caughtUpBefore = (int) log.lines().stream().filter(l -> l.contains("read the model topic to its end; current is v3")).count();
      try (Follower restarted = follow(agent(tmp.resolve("serve"), Optional.of(trainerKey), hook), topic)) {
        await().atMost(WAIT).until(() -> log.lines().stream().filter(l -> l.contains("read the model topic to its end; current is v3")).count() > caughtUpBefore);
        assertThat(Files.readAllLines(hookLog)).containsExactly("2", "3"); // v3 applied before the restart: no second hook run
        publish(trainer, topic, signer, 4, 0.8);
        await().atMost(WAIT).until(() -> served.current().equals(Optional.of(4L)));
      }
      assertThat(Files.readAllLines(hookLog)).containsExactly("2", "3", "4");
    }
  }

  /** The topic's committed records between two offsets, as bytes. */
  private static List<ConsumerRecord<String, byte[]>> raw(String topic, long from, long to) {
    TopicPartition tp = new TopicPartition(topic, 0);
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (var consumer = new KafkaConsumer<>(broker.consumerProps("raw"), new StringDeserializer(), new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
      consumer.assign(List.of(tp));
      consumer.seek(tp, from);
      long end = Math.min(to, consumer.endOffsets(List.of(tp)).get(tp));
      while (consumer.position(tp) < end) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) if (r.offset() < end) out.add(r);
      }
    }
    return out;
  }
}
