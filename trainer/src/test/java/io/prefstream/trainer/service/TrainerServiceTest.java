package io.prefstream.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prefstream.publisher.ModelTopic;
import io.prefstream.publisher.ModelTopicReader;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.OffsetRange;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.serde.AvroSerializer;
import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.testkit.KafkaBroker;
import io.prefstream.trainer.model.ModelRecipe;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The training loop on a real broker: checkpoints cover every input offset exactly once, also across a restart. */
class TrainerServiceTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final String PAIRS = "trainer-it.pairs";
  private static final String MODELS = "trainer-it.checkpoints";
  private static final String METRICS = "trainer-it.metrics";
  private static final Map<String, Object> SERDE = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://trainer-it");

  @TempDir Path tmp;

  @Test
  void checkpointsCoverEveryPairOnce_andARestartResumesFromTheLastOne() throws Exception {
    broker.createTopic(PAIRS, 2);
    broker.createTopic(MODELS, 1);
    broker.createTopic(METRICS, 1);
    Path model = tmp.resolve("model");
    new ModelRecipe(ModelRecipe.Arch.GPT2, 257, 1, 16, 2, 2, 32, 64, true).writeRandom(3, model);
    produce(0, 24);

    Map<String, Object> props = new HashMap<>(SERDE);
    props.put("bootstrap.servers", broker.bootstrapServers());
    props.put(TrainerConfig.MODEL_NAME, "tiny");
    props.put(TrainerConfig.MODEL_DIR, model.toString());
    props.put(TrainerConfig.PAIRS_TOPIC, PAIRS);
    props.put(TrainerConfig.MODEL_TOPIC, MODELS);
    props.put(TrainerConfig.METRICS_TOPIC, METRICS);
    props.put(TrainerConfig.BATCH_PAIRS, "4");
    props.put(TrainerConfig.CHECKPOINT_STEPS, "2");
    props.put(TrainerConfig.EVAL_FRACTION, "0");
    props.put(TrainerConfig.LR, "1e-3");
    props.put(TrainerConfig.LOG_STEPS, "3");
    TrainerConfig config = TrainerConfig.parse(props);

    runUntilCovered(config, tmp.resolve("work1"), 24);
    List<CheckpointManifest> first = manifests();
    assertThat(first).extracting(CheckpointManifest::getVersion).containsExactly(1L, 2L, 3L);
    assertThat(first.get(2).getStep()).isEqualTo(6);

    produce(24, 8);
    runUntilCovered(config, tmp.resolve("work2"), 32);
    List<CheckpointManifest> all = manifests();
    assertThat(all).extracting(CheckpointManifest::getVersion).containsExactly(1L, 2L, 3L, 4L);
    assertThat(all.get(3).getStep()).isEqualTo(8); // the step counter went on from the checkpoint
    assertThat(all.get(3).getParentVersion()).isEqualTo(3L);
    assertThat(all.get(3).getNewestEventTime()).isNotNull();
    assertThat(all.get(3).getMetrics()).containsKeys("loss", "rewards/accuracies", "freshness_ms");
    assertThat(trainingMetrics()).isNotEmpty().allSatisfy(m -> assertThat(m.getMetrics())
        .containsKeys("loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected",
            "grad_norm", "lr", "pairs_per_s", "tokens_per_s", "consumer_lag", "skipped_batches"));
  }

  private static List<io.prefstream.schemas.TrainingMetrics> trainingMetrics() {
    Map<String, Object> props = new HashMap<>(broker.consumerProps("trainer-it-metrics-" + System.nanoTime()));
    var values = io.prefstream.schemas.serde.RecordDeserializer.ofAny(io.prefstream.schemas.TrainingMetrics.class);
    values.configure(SERDE, false);
    List<io.prefstream.schemas.TrainingMetrics> out = new ArrayList<>();
    try (var consumer = new KafkaConsumer<>(props, new StringDeserializer(), values)) {
      consumer.subscribe(List.of(METRICS));
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> out.add((io.prefstream.schemas.TrainingMetrics) r.value()));
        return !out.isEmpty();
      });
    }
    return out;
  }

  private void runUntilCovered(TrainerConfig config, Path work, int pairs) throws Exception {
    AtomicBoolean running = new AtomicBoolean(true);
    Thread trainer = new Thread(() -> {
      try (TrainerService service = new TrainerService(config, work, Clock.systemUTC(), new TrainerMetrics(new io.micrometer.core.instrument.simple.SimpleMeterRegistry()))) {
        service.run(running::get);
      }
    });
    trainer.start();
    try {
      await().atMost(Duration.ofSeconds(120)).until(() -> coveredOffsets(manifests()).size() >= pairs);
    } finally {
      running.set(false);
      trainer.join(60_000);
    }
    List<String> covered = coveredOffsets(manifests());
    assertThat(covered).doesNotHaveDuplicates().hasSize(pairs);
  }

  /** Every (partition, offset) the manifests cover, once per manifest that covers it. */
  private static List<String> coveredOffsets(List<CheckpointManifest> manifests) {
    List<String> out = new ArrayList<>();
    for (CheckpointManifest m : manifests) {
      for (OffsetRange r : m.getCoveredOffsets()) {
        for (long o = r.getFirstOffset(); o < r.getNextOffset(); o++) out.add(r.getPartition() + "@" + o);
      }
    }
    return out;
  }

  private static List<CheckpointManifest> manifests() {
    Map<String, Object> props = new HashMap<>(broker.consumerProps("trainer-it-inspect-" + System.nanoTime()));
    props.putAll(SERDE);
    try (var consumer = new KafkaConsumer<>(props, new StringDeserializer(), ModelTopic.deserializer(SERDE))) {
      return new ModelTopicReader(consumer, MODELS).manifests("tiny");
    }
  }

  private static void produce(int from, int n) throws Exception {
    Map<String, Object> props = new HashMap<>(broker.producerProps());
    AvroSerializer<SpecificRecord> values = new AvroSerializer<>();
    Map<String, Object> serde = new HashMap<>(SERDE);
    serde.put(SerdeConfig.VALUE_SUBJECT_NAME_STRATEGY, "TopicRecordNameStrategy");
    values.configure(serde, false);
    try (var producer = new KafkaProducer<>(props, new StringSerializer(), values)) {
      for (int i = from; i < from + n; i++) {
        producer.send(new ProducerRecord<>(PAIRS, "prompt-" + i, PreferencePair.newBuilder().setEventId("e" + i).setPromptId("prompt-" + i)
            .setPromptIds(List.of(1 + i % 5, 2)).setChosenIds(List.of(7, 7, 7)).setRejectedIds(List.of(9, 9)).setEventTime(System.currentTimeMillis()).build())).get();
      }
    }
  }
}
