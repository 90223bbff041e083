package io.prefstream.publisher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prefstream.schemas.CheckpointChunk;
import io.prefstream.schemas.CheckpointFile;
import io.prefstream.schemas.CheckpointManifest;
import java.nio.ByteBuffer;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.ArrayList;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
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

  @Test
  void interleavedVersionsAssemble_andCorruptForgedOrEscapingOnesAreRefused() throws Exception {
    String topic = "it-model.interleaved";
    broker.createTopic(topic, 1);
    KeyPairGenerator gen = KeyPairGenerator.getInstance("Ed25519");
    KeyPair signer = gen.generateKeyPair();
    KeyPair forger = gen.generateKeyPair();
    CheckpointCutter cutter = new CheckpointCutter(1000);
    java.util.function.LongFunction<CheckpointCutter.Cut> cut = v -> {
      try {
        return cutter.cut(Fixtures.folder(tmp.resolve("src" + v), 3000, v), null, Fixtures.manifest("m", v, 0.9));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
    CheckpointCutter.Cut v1 = cut.apply(1);
    CheckpointCutter.Cut v2 = cut.apply(2);
    CheckpointCutter.Cut v3 = cut.apply(3);
    CheckpointCutter.Cut v4 = cut.apply(4);
    CheckpointCutter.Cut v5 = cut.apply(5);
    CheckpointCutter.Cut v6 = cut.apply(6);

    Map<String, Object> producerProps = new HashMap<>(broker.producerProps());
    producerProps.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "interleaved-test");
    try (var producer = new KafkaProducer<>(producerProps, new StringSerializer(), ModelTopic.serializer(SERDE))) {
      producer.initTransactions();
      producer.beginTransaction();
      for (int i = 0; i < v1.chunks().size(); i++) { // v2's chunks between v1's
        producer.send(new ProducerRecord<>(topic, "m", v1.chunks().get(i)));
        producer.send(new ProducerRecord<>(topic, "m", v2.chunks().get(i)));
      }
      producer.send(new ProducerRecord<>(topic, "m", ManifestSignature.sign(v1.manifest(), signer.getPrivate(), signer.getPublic())));
      producer.send(new ProducerRecord<>(topic, "m", ManifestSignature.sign(v2.manifest(), signer.getPrivate(), signer.getPublic())));
      // v3: a flipped byte; v4: forged signature; v5: a file name leaving the folder; v6: a chunk missing
      for (var c : v3.chunks()) {
        byte[] data = c.getData().array().clone();
        if (c.getIndex() == 1) data[0] ^= 1;
        producer.send(new ProducerRecord<>(topic, "m",
            CheckpointChunk.newBuilder(c).setData(ByteBuffer.wrap(data)).build()));
      }
      producer.send(new ProducerRecord<>(topic, "m", ManifestSignature.sign(v3.manifest(), signer.getPrivate(), signer.getPublic())));
      v4.chunks().forEach(c -> producer.send(new ProducerRecord<>(topic, "m", c)));
      producer.send(new ProducerRecord<>(topic, "m", ManifestSignature.sign(v4.manifest(), forger.getPrivate(), signer.getPublic())));
      for (var c : v5.chunks()) {
        producer.send(new ProducerRecord<>(topic, "m",
            c.getPath().equals("config.json") ? CheckpointChunk.newBuilder(c).setPath("../config.json").build() : c));
      }
      var escaping = CheckpointManifest.newBuilder(v5.manifest()).setFiles(v5.manifest().getFiles().stream()
          .map(f -> f.getPath().equals("config.json") ? new CheckpointFile("../config.json", f.getSize(), f.getSha256()) : f).toList()).build();
      producer.send(new ProducerRecord<>(topic, "m", ManifestSignature.sign(escaping, signer.getPrivate(), signer.getPublic())));
      v6.chunks().stream().filter(c -> c.getIndex() != 2).forEach(c -> producer.send(new ProducerRecord<>(topic, "m", c))); // v6: a chunk missing
      producer.send(new ProducerRecord<>(topic, "m", ManifestSignature.sign(v6.manifest(), signer.getPrivate(), signer.getPublic())));
      producer.commitTransaction();
    }

    VersionFolders folders = new VersionFolders(tmp.resolve("serve"));
    RolloutAgent agent = new RolloutAgent("m", folders, new CheckpointAssembler(Optional.of(signer.getPublic())), OptionalDouble.empty(), 5, ServingNotifier.NONE);
    try (var consumer = new KafkaConsumer<>(broker.consumerProps("interleaved-test"), new StringDeserializer(), ModelTopic.deserializer(SERDE))) {
      consumer.assign(List.of(new TopicPartition(topic, 0)));
      List<Checkpoint> complete = new ArrayList<>();
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> agent.accept(r.value()).ifPresent(complete::add));
        return consumer.position(new TopicPartition(topic, 0)) >= 1 + v1.chunks().size() * 2 + 2
            + v3.chunks().size() + v4.chunks().size() + v5.chunks().size() + 3 + v6.chunks().size();
      });
      assertThat(complete).extracting(c -> c.manifest().getVersion()).containsExactly(1L, 2L);
      complete.forEach(agent::apply);
    }
    assertThat(folders.current()).contains(2L);
    assertThat(tmp.resolve("serve/2/model.safetensors")).hasSameBinaryContentAs(tmp.resolve("src2/model.safetensors"));
    assertThat(tmp.resolve("serve/1/model.safetensors")).hasSameBinaryContentAs(tmp.resolve("src1/model.safetensors"));
    assertThat(tmp.resolve("config.json")).doesNotExist();
  }
}
