package io.prefstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.publisher.CheckpointCutter;
import io.prefstream.publisher.CheckpointPublisher;
import io.prefstream.publisher.ManifestSignature;
import io.prefstream.publisher.ManifestSigner;
import io.prefstream.publisher.ModelTopic;
import io.prefstream.publisher.RolloutAgent;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.testkit.KafkaBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code prefstream checkpoints list/get} against signed checkpoints on a real broker. */
class CheckpointsCommandTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final Map<String, Object> SERDE = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://checkpoints-cli");

  @TempDir Path tmp;

  @Test
  void listShowsEachSigner_getVerifiesWithTheKey_andTheWrongKeyFailsWithExitCode1() throws Exception {
    KeyPair trainer = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    KeyPair other = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    String topic = "cli-model.checkpoints";
    broker.createTopic(topic, 1);
    ManifestSignature.writePem(trainer.getPublic(), tmp.resolve("trainer.pub.pem"));
    ManifestSignature.writePem(other.getPublic(), tmp.resolve("other.pub.pem"));
    Path clientConfig = tmp.resolve("client.properties");
    Files.writeString(clientConfig, SerdeConfig.SCHEMA_REGISTRY_URL + "=mock://checkpoints-cli\n");
    Map<String, Object> producerProps = new HashMap<>(broker.producerProps());
    producerProps.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "cli-trainer");
    try (KafkaProducer<String, SpecificRecord> producer = new KafkaProducer<>(producerProps, new StringSerializer(), ModelTopic.serializer(SERDE))) {
      producer.initTransactions();
      for (long v = 1; v <= 2; v++) {
        Path folder = Files.createDirectories(tmp.resolve("src-" + v));
        Files.writeString(folder.resolve("config.json"), "{\"version\":" + v + "}");
        Files.write(folder.resolve("model.safetensors"), new byte[5000 + (int) v]);
        producer.beginTransaction();
        new CheckpointPublisher(topic, new CheckpointCutter(1024), ManifestSigner.ed25519(trainer.getPrivate(), trainer.getPublic())).publish(producer, folder, null,
            CheckpointManifest.newBuilder().setModelName("m").setVersion(v).setCreatedTime(v).setTrainerId("cli-trainer").setFiles(List.of()).setChunkCount(0)
                .setMetrics(Map.of(RolloutAgent.ACCURACY_METRIC, 0.9)));
        producer.commitTransaction();
      }
    }
    String[] where = {"--bootstrap", broker.bootstrapServers(), "--model", "m", "--topic", topic, "--consumer-config", clientConfig.toString()};

    Cli list = Cli.run(concat(new String[] {"checkpoints", "list", "--public-key", tmp.resolve("other.pub.pem").toString()}, where));
    assertThat(list.exitCode()).as(list.err()).isZero();
    String fingerprint = ManifestSignature.fingerprint(trainer.getPublic()).substring(0, 16);
    assertThat(list.out()).containsPattern("(?m)^1 .* " + fingerprint + " +NO$").containsPattern("(?m)^2 .* " + fingerprint + " +NO$");

    Cli wrongKey = Cli.run(concat(new String[] {"checkpoints", "get", "--public-key", tmp.resolve("other.pub.pem").toString(), "--out", tmp.resolve("out").toString()}, where));
    assertThat(wrongKey.exitCode()).isEqualTo(1);
    assertThat(wrongKey.err()).contains("no checkpoint of m on " + topic + " is signed by the key in " + tmp.resolve("other.pub.pem"));
    assertThat(tmp.resolve("out/2")).doesNotExist();

    Cli get = Cli.run(concat(new String[] {"checkpoints", "get", "--public-key", tmp.resolve("trainer.pub.pem").toString(), "--out", tmp.resolve("out").toString()}, where));
    assertThat(get.exitCode()).as(get.err()).isZero();
    assertThat(tmp.resolve("out/2/model.safetensors")).hasSameBinaryContentAs(tmp.resolve("src-2/model.safetensors"));
    assertThat(tmp.resolve("out/.work")).doesNotExist();
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
