package io.prefstream.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prefstream.publisher.CoveredInputs;
import io.prefstream.publisher.ModelTopic;
import io.prefstream.publisher.ModelTopicReader;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.serde.AvroSerializer;
import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.testkit.KafkaBroker;
import io.prefstream.trainer.model.ModelRecipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer as a child JVM, killed with SIGKILL at random points (mid-transaction included) and
 * restarted: across all manifests every input offset is covered exactly once, and the step counter
 * continues from the last checkpoint.
 */
class TrainerCrashTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final int PAIRS = 96;

  @TempDir Path tmp;

  @Test
  void sigkillAtRandomPoints_losesNoPairAndTrainsNoneTwice() throws Exception {
    String prefix = "crash";
    broker.createTopic(prefix + ".pairs", 2);
    broker.createTopic(prefix + ".checkpoints", 1);
    broker.createTopic(prefix + ".metrics", 1);
    try (TestRegistry registry = new TestRegistry()) {
      Map<String, Object> serde = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registry.url());
      Path model = tmp.resolve("model");
      new ModelRecipe(ModelRecipe.Arch.GPT2, 257, 1, 16, 2, 2, 32, 64, true).writeRandom(3, model);

      Properties props = new Properties();
      props.put("bootstrap.servers", broker.bootstrapServers());
      props.put(SerdeConfig.SCHEMA_REGISTRY_URL, registry.url());
      props.put(TrainerConfig.MODEL_NAME, "crashy");
      props.put(TrainerConfig.MODEL_DIR, model.toString());
      props.put(TrainerConfig.PAIRS_TOPIC, prefix + ".pairs");
      props.put(TrainerConfig.MODEL_TOPIC, prefix + ".checkpoints");
      props.put(TrainerConfig.METRICS_TOPIC, prefix + ".metrics");
      props.put(TrainerConfig.BATCH_PAIRS, "4");
      props.put(TrainerConfig.CHECKPOINT_STEPS, "2");
      props.put(TrainerConfig.EVAL_FRACTION, "0");
      props.put(TrainerConfig.METRICS_PORT, "-1");
      Path config = tmp.resolve("trainer.properties");
      try (var out = Files.newBufferedWriter(config)) {
        props.store(out, null);
      }

      Random random = new Random(7);
      int perRun = PAIRS / 4;
      for (int run = 0; run < 3; run++) {
        produce(prefix + ".pairs", serde, run * perRun, perRun);
        int coveredBefore = covered(prefix, serde).size();
        Process child = start(config, tmp.resolve("work-" + run));
        // kill once this run has published something, at a random moment after that
        await().atMost(Duration.ofSeconds(120)).until(() -> covered(prefix, serde).size() > coveredBefore || !child.isAlive());
        Thread.sleep(random.nextInt(1500)); // a random point in the run, not a wait for a condition
        child.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL
      }
      produce(prefix + ".pairs", serde, 3 * perRun, PAIRS - 3 * perRun);
      Process last = start(config, tmp.resolve("work-last"));
      try {
        await().atMost(Duration.ofSeconds(180)).until(() -> covered(prefix, serde).size() >= PAIRS);
      } finally {
        last.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
      List<String> covered = covered(prefix, serde);
      assertThat(covered).doesNotHaveDuplicates().hasSize(PAIRS);
      List<CheckpointManifest> manifests = manifests(prefix, serde);
      for (int i = 1; i < manifests.size(); i++) {
        assertThat(manifests.get(i).getVersion()).isEqualTo(manifests.get(i - 1).getVersion() + 1);
        assertThat(manifests.get(i).getStep()).isGreaterThan(manifests.get(i - 1).getStep());
      }
    }
  }

  private static Process start(Path config, Path work) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx1g", "-Dai.djl.offline=true", "-Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.prefstream",
        "-cp", System.getProperty("java.class.path"), TrainerMain.class.getName(), config.toString(), work.toString())
        .redirectErrorStream(true).redirectOutput(work.resolveSibling(work.getFileName() + ".log").toFile());
    pb.environment().put("OPT_OUT_TRACKING", "true");
    return pb.start();
  }

  private static List<CheckpointManifest> manifests(String prefix, Map<String, Object> serde) {
    Map<String, Object> props = new HashMap<>(broker.consumerProps("crash-inspect-" + System.nanoTime()));
    try (var consumer = new KafkaConsumer<>(props, new StringDeserializer(), ModelTopic.deserializer(serde))) {
      return new ModelTopicReader(consumer, prefix + ".checkpoints").manifests("crashy");
    }
  }

  private static List<String> covered(String prefix, Map<String, Object> serde) {
    return CoveredInputs.of(manifests(prefix, serde));
  }


  private static void produce(String topic, Map<String, Object> serde, int from, int n) throws Exception {
    AvroSerializer<SpecificRecord> values = new AvroSerializer<>();
    Map<String, Object> config = new HashMap<>(serde);
    config.put(SerdeConfig.VALUE_SUBJECT_NAME_STRATEGY, "TopicRecordNameStrategy");
    values.configure(config, false);
    try (var producer = new KafkaProducer<>(broker.producerProps(), new StringSerializer(), values)) {
      for (int i = from; i < from + n; i++) {
        producer.send(new ProducerRecord<>(topic, "prompt-" + i, PreferencePair.newBuilder().setEventId("c" + i).setPromptId("prompt-" + i)
            .setPromptIds(List.of(1 + i % 5, 2)).setChosenIds(List.of(7, 7, 7)).setRejectedIds(List.of(9, 9)).setEventTime(System.currentTimeMillis()).build()));
      }
      producer.flush();
    }
  }
}
