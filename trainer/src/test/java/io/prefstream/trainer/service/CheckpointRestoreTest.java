package io.prefstream.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.publisher.Checkpoint;
import io.prefstream.publisher.CheckpointCutter;
import io.prefstream.publisher.CheckpointPublisher;
import io.prefstream.publisher.ManifestSignature;
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
    publish(TOPIC, "own-trainer", ManifestSigner.ed25519(key.getPrivate(), key.getPublic()), 1, VERSIONS);
    TrainerConfig config = config(TOPIC, "own-trainer");
    Map<String, Object> clientProps = clientProps(config);

    long before = RecordCounter.count(TOPIC);
    assertThat(CheckpointRestore.newest(config, clientProps, tmp.resolve("work"), Optional.of(key.getPublic())).orElseThrow().version()).isEqualTo(VERSIONS);
    assertThat(RecordCounter.count(TOPIC) - before).as("records read of %d on the topic", VERSIONS * RECORDS_PER_VERSION)
        .isLessThanOrEqualTo(RECORDS_PER_VERSION + 1); // the newest version's records, its manifest once more reading back

    publish(TOPIC, "foreign-trainer", ManifestSigner.ed25519(foreignKey.getPrivate(), foreignKey.getPublic()), VERSIONS + 1, VERSIONS + 1);
    publish(TOPIC, "own-trainer-forger", ManifestSigner.NONE, VERSIONS + 2, VERSIONS + 2); // claims trainer id own-trainer, unsigned
    before = RecordCounter.count(TOPIC);
    Checkpoint restored = CheckpointRestore.newest(config, clientProps, tmp.resolve("work"), Optional.of(key.getPublic())).orElseThrow();
    long read = RecordCounter.count(TOPIC) - before;

    assertThat(restored.version()).isEqualTo(VERSIONS);
    assertThat(restored.serving().resolve("model.safetensors")).hasSameBinaryContentAs(tmp.resolve("src-" + VERSIONS + "/model/model.safetensors"));
    assertThat(restored.companion().resolve(TrainerState.COUNTERS)).content().contains("\"step\":" + VERSIONS * 10);
    // back through the two versions after it in doubling windows, then forward from its first chunk to the end
    assertThat(read).as("records read of %d on the topic", (VERSIONS + 2) * RECORDS_PER_VERSION).isLessThanOrEqualTo(8L * RECORDS_PER_VERSION);
  }

  /**
   * A signing key turned on or rotated: every manifest this trainer id published fails the trust
   * check. Starting from model.dir then would drop what they trained on while their input offsets
   * stay committed, so the start stops and says why; a trainer id that never published starts
   * from model.dir as before.
   */
  @Test
  void ownLineageThatCannotBeRestored_stopsTheStart_aTrainerIdThatNeverPublishedStartsFromModelDir() throws Exception {
    String topic = TOPIC + ".rotated";
    broker.createTopic(topic, 1);
    KeyPairGenerator gen = KeyPairGenerator.getInstance("Ed25519");
    KeyPair oldKey = gen.generateKeyPair();
    KeyPair newKey = gen.generateKeyPair();
    publish(topic, "own-trainer", ManifestSigner.ed25519(oldKey.getPrivate(), oldKey.getPublic()), 1, 3);
    TrainerConfig config = config(topic, "own-trainer");

    assertThatThrownBy(() -> CheckpointRestore.newest(config, clientProps(config), tmp.resolve("work"), Optional.of(newKey.getPublic())))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(topic + " holds v3 published by trainer own-trainer (at " + topic + "-0@")
        .hasMessageContaining("signed by key " + ManifestSignature.fingerprint(oldKey.getPublic()).substring(0, 16))
        .hasMessageContaining("only manifests signed by key " + ManifestSignature.fingerprint(newKey.getPublic()).substring(0, 16))
        .hasMessageContaining("start a fresh lineage from model.dir under a new trainer.id");
    TrainerConfig fresh = config(topic, "fresh-trainer");
    assertThat(CheckpointRestore.newest(fresh, clientProps(fresh), tmp.resolve("work"), Optional.of(newKey.getPublic()))).isEmpty();
  }

  private TrainerConfig config(String topic, String trainerId) {
    Map<String, Object> props = new HashMap<>();
    props.put("bootstrap.servers", broker.bootstrapServers());
    props.put(SerdeConfig.SCHEMA_REGISTRY_URL, REGISTRY);
    props.put(TrainerConfig.MODEL_NAME, "restored");
    props.put(TrainerConfig.MODEL_DIR, tmp.toString());
    props.put(TrainerConfig.MODEL_TOPIC, topic);
    props.put(TrainerConfig.TRAINER_ID, trainerId);
    return TrainerConfig.parse(props);
  }

  private static Map<String, Object> clientProps(TrainerConfig config) {
    Map<String, Object> clientProps = new HashMap<>(config.passThrough());
    clientProps.putAll(RecordCounter.props());
    return clientProps;
  }

  /** Versions {@code from..to} of "restored", each in its own transaction, claiming trainer id own-trainer unless the producer is foreign-trainer. */
  private void publish(String topic, String producerId, ManifestSigner signer, long from, long to) throws Exception {
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
        new CheckpointPublisher(topic, new CheckpointCutter(1000), signer).publish(producer, model, state,
            CheckpointManifest.newBuilder().setModelName("restored").setVersion(v).setParentVersion(v > 1 ? v - 1 : null).setCreatedTime(v)
                .setTrainerId(producerId.equals("foreign-trainer") ? "foreign-trainer" : "own-trainer").setStep(v * 10)
                .setFiles(List.of()).setChunkCount(0));
        producer.commitTransaction();
      }
    }
  }
}
