package io.prefstream.ittests;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import io.prefstream.app.Prefstream;
import io.prefstream.publisher.CheckpointCutter;
import io.prefstream.publisher.CheckpointPublisher;
import io.prefstream.publisher.ManifestSigner;
import io.prefstream.publisher.ModelTopic;
import io.prefstream.publisher.RolloutAgent;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.testkit.KafkaBroker;
import io.prefstream.trainer.dpo.DpoConfig;
import io.prefstream.trainer.dpo.PreferenceExample;
import io.prefstream.trainer.dpo.PreferenceLoss;
import io.prefstream.trainer.dpo.PreferenceScorer;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.ModelFolder;
import io.prefstream.trainer.model.ModelRecipe;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A model published to the model topic, rolled out by the agent, loads back and scores identically. */
class RolledOutModelTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final Map<String, Object> SERDE = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://e2e-rollout");

  @TempDir Path tmp;

  /** Makes a model folder and publishes it as version 1 of "policy" in one transaction. */
  private Path publishedModel(String topic) throws Exception {
    broker.createTopic(topic, 1);
    Path source = tmp.resolve("source");
    new ModelRecipe(ModelRecipe.Arch.LLAMA, 300, 2, 32, 4, 2, 64, 64, false).writeRandom(7, source);
    Map<String, Object> producerProps = new HashMap<>(broker.producerProps());
    producerProps.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "e2e-" + topic);
    try (var producer = new KafkaProducer<>(producerProps, new StringSerializer(), ModelTopic.serializer(SERDE))) {
      producer.initTransactions();
      producer.beginTransaction();
      new CheckpointPublisher(topic, new CheckpointCutter(64 * 1024), ManifestSigner.NONE).publish(producer, source, null,
          CheckpointManifest.newBuilder().setModelName("policy").setVersion(1).setCreatedTime(System.currentTimeMillis())
              .setTrainerId("e2e").setFiles(List.of()).setChunkCount(0).setMetrics(Map.of(RolloutAgent.ACCURACY_METRIC, 0.9)));
      producer.commitTransaction();
    }
    return source;
  }

  @Test
  void rolledOutFolder_loadsWithTheTrainersLoader_andScoresIdentically() throws Exception {
    String topic = "e2e-rollout.checkpoints";
    Path source = publishedModel(topic);

    Map<String, Object> consumer = new HashMap<>(broker.consumerProps("e2e-rollout"));
    consumer.putAll(SERDE);
    Rollout.firstVersion(consumer, topic, "policy", tmp.resolve("serving"));

    List<PreferenceExample> examples = List.of(
        PreferenceExample.pair("a", new int[] {1, 2, 3}, new int[] {4, 5}, new int[] {6}),
        PreferenceExample.pair("b", new int[] {9}, new int[] {10, 11, 12}, new int[] {13, 14}));
    assertThat(scores(tmp.resolve("serving/current"), examples)).isEqualTo(scores(source, examples));
    assertThat(tmp.resolve("serving/current/tokenizer.json")).hasSameBinaryContentAs(source.resolve("tokenizer.json"));
  }

  @Test
  void checkpointsList_showsThePublishedVersions() throws Exception {
    String topic = "e2e-list.checkpoints";
    publishedModel(topic);
    Path clientConfig = tmp.resolve("client.properties");
    java.nio.file.Files.writeString(clientConfig, SerdeConfig.SCHEMA_REGISTRY_URL + "=mock://e2e-rollout\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream previous = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    java.io.StringWriter err = new java.io.StringWriter();
    int code;
    try {
      code = Prefstream.commandLine().setErr(new java.io.PrintWriter(err, true)).execute("checkpoints", "list", "--bootstrap", broker.bootstrapServers(), "--model", "policy", "--topic", topic,
          "--consumer-config", clientConfig.toString());
    } finally {
      System.setOut(previous);
    }
    assertThat(code).as(err.toString()).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).containsPattern("(?m)^1\\s+\\S+\\s+0\\s+0\\.900");
  }

  private static List<List<Double>> scores(Path folder, List<PreferenceExample> examples) {
    try (NDManager m = NDManager.newBaseManager(); CausalLm model = ModelFolder.load(folder, m); CausalLm reference = ModelFolder.load(folder, m);
        PreferenceLoss loss = new PreferenceLoss(DpoConfig.defaults(), m)) {
      return new PreferenceScorer(model, reference, loss).score(examples).stream()
          .map(s -> java.util.Arrays.stream(s.policyLogProbs()).boxed().toList()).toList();
    }
  }
}
