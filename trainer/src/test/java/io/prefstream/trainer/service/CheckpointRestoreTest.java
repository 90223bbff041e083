package io.prefstream.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.publisher.Checkpoint;
import io.prefstream.publisher.CheckpointCutter;
import io.prefstream.publisher.CheckpointPublisher;
import io.prefstream.publisher.ManifestSigner;
import io.prefstream.publisher.ModelTopic;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.testkit.KafkaBroker;
import io.prefstream.testkit.RecordCounter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The trainer's restore: its own newest verifiable checkpoint, found without reading the topic's history. */
class CheckpointRestoreTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final String REGISTRY = "mock://checkpoint-restore";
  private static final String TOPIC = "restore-test.checkpoints";
  private static final int VERSIONS = 50;
  /** Records of one version: weights in 3 chunks, config, optimizer state, counters, then the manifest. */
  private static final int RECORDS_PER_VERSION = 3 + 1 + 1 + 1 + 1;

  @TempDir Path tmp;

  @Test
  void restoresItsOwnNewestSignedVersion_skippingForeignAndForgedOnes_readingOnlyTheEnd() throws Exception {
    broker.createTopic(TOPIC, 1);
    KeyPairGenerator gen = KeyPairGenerator.getInstance("Ed25519");
    KeyPair key = gen.generateKeyPair();
    KeyPair foreignKey = gen.generateKeyPair();
    publish("own-trainer", ManifestSigner.ed25519(key.getPrivate(), key.getPublic()), 1, VERSIONS);
    Map<String, Object> props = new HashMap<>();
    props.put("bootstrap.servers", broker.bootstrapServers());
    props.put(SerdeConfig.SCHEMA_REGISTRY_URL, REGISTRY);
    props.put(TrainerConfig.MODEL_NAME, "restored");
    props.put(TrainerConfig.MODEL_DIR, tmp.toString());
    props.put(TrainerConfig.MODEL_TOPIC, TOPIC);
    props.put(TrainerConfig.TRAINER_ID, "own-trainer");
    TrainerConfig config = TrainerConfig.parse(props);
    Map<String, Object> clientProps = new HashMap<>(config.passThrough());
    clientProps.putAll(RecordCounter.props());

    long before = RecordCounter.count(TOPIC);
    assertThat(CheckpointRestore.newest(config, clientProps, tmp.resolve("work"), Optional.of(key.getPublic())).orElseThrow().version()).isEqualTo(VERSIONS);
    assertThat(RecordCounter.count(TOPIC) - before).as("records read of %d on the topic", VERSIONS * RECORDS_PER_VERSION)
        .isLessThanOrEqualTo(RECORDS_PER_VERSION + 1); // the newest version's records, its manifest once more reading back

    publish("foreign-trainer", ManifestSigner.ed25519(foreignKey.getPrivate(), foreignKey.getPublic()), VERSIONS + 1, VERSIONS + 1);
    publish("own-trainer-forger", ManifestSigner.NONE, VERSIONS + 2, VERSIONS + 2); // claims trainer id own-trainer, unsigned
    before = RecordCounter.count(TOPIC);
    Checkpoint restored = CheckpointRestore.newest(config, clientProps, tmp.resolve("work"), Optional.of(key.getPublic())).orElseThrow();
    long read = RecordCounter.count(TOPIC) - before;

    assertThat(restored.version()).isEqualTo(VERSIONS);
    assertThat(restored.serving().resolve("model.safetensors")).hasSameBinaryContentAs(tmp.resolve("src-" + VERSIONS + "/model/model.safetensors"));
    assertThat(restored.companion().resolve(TrainerState.COUNTERS)).content().contains("\"step\":" + VERSIONS * 10);
    // back through the two versions after it in doubling windows, then forward from its first chunk to the end
    assertThat(read).as("records read of %d on the topic", (VERSIONS + 2) * RECORDS_PER_VERSION).isLessThanOrEqualTo(8L * RECORDS_PER_VERSION);
  }

  /** Versions {@code from..to} of "restored", each in its own transaction, claiming trainer id own-trainer unless the producer is foreign-trainer. */
  private void publish(String producerId, ManifestSigner signer, long from, long to) throws Exception {
    Map<String, Object> props = new HashMap<>(broker.producerProps());
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, producerId);
    Map<String, Object> serde = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, REGISTRY);
    try (var producer = new KafkaProducer<String, SpecificRecord>(props, new StringSerializer(), ModelTopic.serializer(serde))) {
      producer.initTransactions();
      for (long v = from; v <= to; v++) {
        Path model = Files.createDirectories(tmp.resolve("src-" + v + "/model"));
        Path state = Files.createDirectories(tmp.resolve("src-" + v + "/state"));
        Files.writeString(model.resolve("config.json"), "{}");
        byte[] weights = new byte[2500];
        new java.util.Random(v).nextBytes(weights);
        Files.write(model.resolve("model.safetensors"), weights);
        Files.writeString(state.resolve(TrainerState.COUNTERS), "{\"step\":" + v * 10 + ",\"version\":" + v + "}");
        Files.writeString(state.resolve(TrainerState.OPTIMIZER), "not read by this test");
        producer.beginTransaction();
        new CheckpointPublisher(TOPIC, new CheckpointCutter(1000), signer).publish(producer, model, state,
            CheckpointManifest.newBuilder().setModelName("restored").setVersion(v).setParentVersion(v > 1 ? v - 1 : null).setCreatedTime(v)
                .setTrainerId(producerId.equals("foreign-trainer") ? "foreign-trainer" : "own-trainer").setStep(v * 10)
                .setFiles(List.of()).setChunkCount(0));
        producer.commitTransaction();
      }
    }
  }
}
