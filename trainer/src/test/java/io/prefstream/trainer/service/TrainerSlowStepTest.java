package io.prefstream.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

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
import io.prefstream.trainer.model.ModelRecipe;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.stream.IntStream;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Steps longer than max.poll.interval.ms: the trainer's consumer stays the one member of its group
 * throughout (a consumer pushed out rejoins under a new member id), and every checkpoint commits.
 */
class TrainerSlowStepTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final Map<String, Object> SERDE = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://trainer-slow");
  private static final int MAX_POLL_INTERVAL_MS = 2000;
  private static final int PAIRS = 16;

  @TempDir Path tmp;

  @Test
  void stepsLongerThanMaxPollInterval_keepTheGroupMembership_andEveryCheckpointCommits() throws Exception {
    String pairs = "slow.pairs";
    String models = "slow.checkpoints";
    String metrics = "slow.metrics";
    broker.createTopic(pairs, 1);
    try (Admin admin = Admin.create(broker.adminProps())) { // checkpoint chunks of 1 MiB are over the broker's default record size
      admin.createTopics(List.of(new NewTopic(models, 1, (short) 1).configs(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, String.valueOf(8 << 20))))).all().get();
    }
    broker.createTopic(metrics, 1);
    Path model = tmp.resolve("model");
    // big enough that a step of 8 pairs of 300 tokens takes longer than the interval
    new ModelRecipe(ModelRecipe.Arch.GPT2, 257, 8, 256, 4, 4, 1024, 512, true).writeRandom(3, model);
    produce(pairs);

    Map<String, Object> props = new HashMap<>(SERDE);
    props.put("bootstrap.servers", broker.bootstrapServers());
    props.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, String.valueOf(MAX_POLL_INTERVAL_MS));
    props.put(TrainerConfig.MODEL_NAME, "slow");
    props.put(TrainerConfig.MODEL_DIR, model.toString());
    props.put(TrainerConfig.PAIRS_TOPIC, pairs);
    props.put(TrainerConfig.MODEL_TOPIC, models);
    props.put(TrainerConfig.METRICS_TOPIC, metrics);
    props.put(TrainerConfig.TRAINER_ID, "slow-trainer");
    props.put(TrainerConfig.BATCH_PAIRS, "8");
    props.put(TrainerConfig.CHECKPOINT_STEPS, "1");
    props.put(TrainerConfig.LOG_STEPS, "1");
    props.put(TrainerConfig.EVAL_FRACTION, "0");
    props.put(TrainerConfig.METRICS_PORT, "-1");
    TrainerConfig config = TrainerConfig.parse(props);

    Set<String> members = new HashSet<>();
    try (RunningTrainer trainer = RunningTrainer.start(config, tmp.resolve("work")); Admin admin = Admin.create(broker.adminProps())) {
      await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(100)).until(() -> {
        members.addAll(members(admin, "slow-trainer"));
        assertThat(trainer.failure()).as("the trainer failed").isEmpty();
        return CoveredInputs.of(manifests(models)).size() >= PAIRS;
      });
    }
    assumeThat(longestStepSeconds(metrics)).as("a step outlasts max.poll.interval.ms on this machine").isGreaterThan(MAX_POLL_INTERVAL_MS / 1000.0);
    assertThat(members).as("the trainer's consumer never left its group").hasSize(1);
    assertThat(manifests(models)).extracting(CheckpointManifest::getStep).as("every checkpoint committed at its step").containsExactly(1L, 2L);
    assertThat(CoveredInputs.of(manifests(models))).doesNotHaveDuplicates().hasSize(PAIRS);
  }

  /** The group's member ids now; none before the group exists. */
  private static List<String> members(Admin admin, String group) throws InterruptedException {
    try {
      return admin.describeConsumerGroups(List.of(group)).all().get().get(group).members().stream().map(MemberDescription::consumerId).toList();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof GroupIdNotFoundException) return List.of();
      throw new IllegalStateException(e.getCause());
    }
  }

  private static double longestStepSeconds(String topic) {
    RecordDeserializer<SpecificRecord> values = RecordDeserializer.ofAny(TrainingMetrics.class);
    values.configure(SERDE, false);
    List<TrainingMetrics> logged = new ArrayList<>();
    try (var consumer = new KafkaConsumer<>(broker.consumerProps("slow-metrics"), new StringDeserializer(), values)) {
      consumer.subscribe(List.of(topic));
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> logged.add((TrainingMetrics) r.value()));
        return logged.size() >= 2;
      });
    }
    return logged.stream().mapToDouble(m -> m.getMetrics().get("step_seconds")).max().orElseThrow();
  }

  private static List<CheckpointManifest> manifests(String topic) {
    Map<String, Object> props = new HashMap<>(broker.consumerProps("slow-inspect-" + System.nanoTime()));
    props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 << 20);
    try (var consumer = new KafkaConsumer<>(props, new StringDeserializer(), ModelTopic.deserializer(SERDE))) {
      return new ModelTopicReader(consumer, topic).manifests("slow");
    }
  }

  private static void produce(String topic) throws Exception {
    AvroSerializer<SpecificRecord> values = new AvroSerializer<>();
    Map<String, Object> serde = new HashMap<>(SERDE);
    serde.put(SerdeConfig.VALUE_SUBJECT_NAME_STRATEGY, "TopicRecordNameStrategy");
    values.configure(serde, false);
    List<Integer> prompt = IntStream.range(0, 200).map(i -> 1 + i % 200).boxed().toList();
    try (var producer = new KafkaProducer<>(broker.producerProps(), new StringSerializer(), values)) {
      for (int i = 0; i < PAIRS; i++) {
        int shift = i;
        List<Integer> chosen = IntStream.range(0, 100).map(t -> 7 + (t + shift) % 50).boxed().toList();
        List<Integer> rejected = IntStream.range(0, 100).map(t -> 60 + (t + shift) % 50).boxed().toList();
        producer.send(new ProducerRecord<>(topic, "prompt-" + i, PreferencePair.newBuilder().setEventId("s" + i).setPromptId("prompt-" + i)
            .setPromptIds(prompt).setChosenIds(chosen).setRejectedIds(rejected).setEventTime(System.currentTimeMillis()).build())).get();
      }
    }
  }
}
