package io.prefstream.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.THROWABLE;
import static org.awaitility.Awaitility.await;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.prefstream.publisher.CoveredInputs;
import io.prefstream.publisher.ModelTopic;
import io.prefstream.publisher.ModelTopicReader;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.TrainingMetrics;
import io.prefstream.schemas.serde.AvroSerializer;
import io.prefstream.schemas.serde.RecordDeserializer;
import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.testkit.KafkaBroker;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.ModelFolder;
import io.prefstream.trainer.model.ModelRecipe;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The trainer's guards: a second trainer of the same id fences the first; non-finite weights stop it and are never published. */
class TrainerGuardsTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final Map<String, Object> SERDE = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://trainer-guards");

  @TempDir Path tmp;

  private record Topics(String pairs, String models, String metrics) {
    static Topics named(String prefix) {
      Topics t = new Topics(prefix + ".pairs", prefix + ".checkpoints", prefix + ".metrics");
      broker.createTopic(t.pairs, 2);
      broker.createTopic(t.models, 1);
      broker.createTopic(t.metrics, 1);
      return t;
    }
  }

  private TrainerConfig config(Topics t, Path model) {
    Map<String, Object> props = new HashMap<>(SERDE);
    props.put("bootstrap.servers", broker.bootstrapServers());
    props.put(TrainerConfig.MODEL_NAME, "guarded");
    props.put(TrainerConfig.MODEL_DIR, model.toString());
    props.put(TrainerConfig.PAIRS_TOPIC, t.pairs());
    props.put(TrainerConfig.MODEL_TOPIC, t.models());
    props.put(TrainerConfig.METRICS_TOPIC, t.metrics());
    props.put(TrainerConfig.TRAINER_ID, "guarded-" + t.pairs());
    props.put(TrainerConfig.BATCH_PAIRS, "4");
    props.put(TrainerConfig.CHECKPOINT_STEPS, "1");
    props.put(TrainerConfig.LOG_STEPS, "1");
    props.put(TrainerConfig.EVAL_FRACTION, "0");
    props.put(TrainerConfig.METRICS_PORT, "-1");
    return TrainerConfig.parse(props);
  }

  private Path model(String name) {
    Path dir = tmp.resolve(name);
    new ModelRecipe(ModelRecipe.Arch.GPT2, 257, 1, 16, 2, 2, 32, 64, true).writeRandom(3, dir);
    return dir;
  }

  @Test
  void secondTrainerWithTheSameId_fencesTheFirst_andNoPairIsTrainedTwice() throws Exception {
    Topics t = Topics.named("guard-fence");
    TrainerConfig config = config(t, model("fence-model"));
    produce(t.pairs(), 0, 8);
    RunningTrainer a = RunningTrainer.start(config, tmp.resolve("work-a"));
    try (a) {
      await().atMost(Duration.ofSeconds(60)).until(() -> covered(t.models()).size() >= 8);
      try (RunningTrainer b = RunningTrainer.start(config, tmp.resolve("work-b"))) {
        produce(t.pairs(), 8, 16);
        await().atMost(Duration.ofSeconds(90)).until(() -> !a.isAlive() && covered(t.models()).size() >= 24);
        assertThat(a.failure()).get().asInstanceOf(THROWABLE).hasMessageContaining("took over");
        assertThat(covered(t.models())).doesNotHaveDuplicates().hasSize(24);
      }
    }
  }

  @Test
  void nonFiniteWeights_stopTheTrainerWithAClearError_andAreNeverPublished() throws Exception {
    Topics t = Topics.named("guard-nan");
    Path model = model("nan-source");
    Path poisoned = tmp.resolve("nan-model");
    try (NDManager m = NDManager.newBaseManager(); CausalLm lm = ModelFolder.load(model, m)) {
      lm.parameters().get("ln_f.weight").set(new NDIndex("0"), Float.NaN);
      ModelFolder.save(lm, poisoned);
    }
    produce(t.pairs(), 0, 8);
    try (RunningTrainer trainer = RunningTrainer.start(config(t, poisoned), tmp.resolve("work-nan"))) {
      await().atMost(Duration.ofSeconds(60)).until(() -> !trainer.isAlive());
      assertThat(trainer.failure()).get().asInstanceOf(THROWABLE)
          .hasMessageContaining("weights are not finite after step 1").hasMessageContaining("restart resumes from checkpoint v0");
      assertThat(manifests(t.models())).isEmpty();
    }
  }

  private static List<CheckpointManifest> manifests(String topic) {
    Map<String, Object> props = new HashMap<>(broker.consumerProps("guard-inspect-" + System.nanoTime()));
    try (var consumer = new KafkaConsumer<>(props, new StringDeserializer(), ModelTopic.deserializer(SERDE))) {
      return new ModelTopicReader(consumer, topic).manifests("guarded");
    }
  }

  private static List<String> covered(String topic) {
    return CoveredInputs.of(manifests(topic));
  }


  private static void produce(String topic, int from, int n) throws Exception {
    AvroSerializer<SpecificRecord> values = new AvroSerializer<>();
    Map<String, Object> serde = new HashMap<>(SERDE);
    serde.put(SerdeConfig.VALUE_SUBJECT_NAME_STRATEGY, "TopicRecordNameStrategy");
    values.configure(serde, false);
    try (var producer = new KafkaProducer<>(broker.producerProps(), new StringSerializer(), values)) {
      for (int i = from; i < from + n; i++) {
        producer.send(new ProducerRecord<>(topic, "prompt-" + i, PreferencePair.newBuilder().setEventId("g" + i).setPromptId("prompt-" + i)
            .setPromptIds(List.of(1 + i % 5, 2)).setChosenIds(List.of(7, 7, 7)).setRejectedIds(List.of(9, 9)).setEventTime(System.currentTimeMillis()).build())).get();
      }
    }
  }
}
