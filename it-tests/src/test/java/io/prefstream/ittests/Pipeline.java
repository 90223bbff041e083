package io.prefstream.ittests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.ingest.IngestMetrics;
import io.prefstream.ingest.IngestStreams;
import io.prefstream.ingest.StreamThreadFailures;
import io.prefstream.publisher.CoveredInputs;
import io.prefstream.publisher.ModelTopic;
import io.prefstream.publisher.ModelTopicReader;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.LabelledResponse;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.schemas.TrainingMetrics;
import io.prefstream.schemas.serde.RecordDeserializer;
import io.prefstream.trainer.model.ModelRecipe;
import io.prefstream.trainer.service.TrainerConfig;
import io.prefstream.trainer.service.TrainerMetrics;
import io.prefstream.trainer.service.TrainerService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ingest topology and a trainer (a tiny random GPT-2) wired as {@code prefstream demo} wires
 * them, on topics of their own, with the given client properties; and what the tests assert on:
 * the topics' contents and whether the services still run.
 */
final class Pipeline implements AutoCloseable {
  /** Pairs per optimizer step: a test that wants every pair trained on sends a multiple of it. */
  static final int BATCH_PAIRS = 2;
  static final int MAX_RATINGS_PER_PROMPT = 3;
  static final int MAX_RECORD_BYTES = 200_000;
  private static final Logger log = LoggerFactory.getLogger(Pipeline.class);
  private static final String MODEL = "e2e";
  private static final Duration CATCH_UP = Duration.ofSeconds(90);

  /** The pipeline's topic names, all under one prefix. */
  record Topics(String feedbackPairs, String feedbackRatings, String feedbackRankings, String preferencePairs, String dlq, String models, String metrics) {
    static Topics under(String prefix) {
      return new Topics(prefix + ".feedback.pairs", prefix + ".feedback.ratings", prefix + ".feedback.rankings", prefix + ".preference.pairs",
          prefix + ".preference.dlq", prefix + ".model.checkpoints", prefix + ".trainer.metrics");
    }
  }

  private final Topics topics;
  private final Path baseModel;
  private final Clients clients;
  private final KafkaStreams ingest;
  private final TrainerService trainer;
  private final Thread trainerThread;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicReference<Throwable> trainerFailure = new AtomicReference<>();
  private final AtomicReference<Throwable> ingestFailure = new AtomicReference<>();

  private Pipeline(Topics topics, Path baseModel, Clients clients, KafkaStreams ingest, TrainerService trainer) {
    this.topics = topics;
    this.baseModel = baseModel;
    this.clients = clients;
    this.ingest = ingest;
    this.trainer = trainer;
    this.trainerThread = new Thread(() -> trainer.run(running::get), "e2e-trainer-" + topics.models());
    trainerThread.setUncaughtExceptionHandler((t, e) -> {
      log.error("trainer stopped", e);
      trainerFailure.set(e);
    });
    // ingest's own answer, and the failure that stopped it kept for the assertions
    StreamThreadFailures failures = new StreamThreadFailures();
    ingest.setUncaughtExceptionHandler(e -> {
      StreamThreadExceptionResponse response = failures.handle(e);
      if (response != StreamThreadExceptionResponse.REPLACE_THREAD) ingestFailure.set(e);
      return response;
    });
    ingest.setStateListener((now, before) -> log.info("ingest {} -> {}", before, now));
  }

  /**
   * Waits until the rating windows of events dated {@code sentAt} are over by the clock (window
   * 1 s, no grace) and returns the time then: a rating dated now closes them. Ingest lets no event
   * time run ahead of its clock, so a rating dated in the future would not.
   */
  static long ratingWindowsOver(long sentAt) {
    await().atMost(Duration.ofSeconds(10)).until(() -> System.currentTimeMillis() >= sentAt + 2_000);
    return System.currentTimeMillis();
  }

  /** Creates the topics, a tiny model under {@code work}, and starts ingest and the trainer. */
  static Pipeline start(String name, Clients clients, Path work) {
    return start(name, clients, work, Map.of(), Map.of());
  }

  /** {@link #start(String, Clients, Path)} with some of ingest's and the trainer's settings changed. */
  static Pipeline start(String name, Clients clients, Path work, Map<String, String> ingestSettings, Map<String, String> trainerSettings) {
    Topics topics = Topics.under(name);
    // one partition per feedback topic: a rating window closes by stream time, which is per partition;
    // two for preference.pairs, so that the covered offsets are checked per partition
    clients.createTopics(List.of(topics.feedbackPairs(), topics.feedbackRatings(), topics.feedbackRankings(), topics.dlq(), topics.models(), topics.metrics()), 1);
    clients.createTopics(List.of(topics.preferencePairs()), 2);
    Path model = work.resolve("model");
    new ModelRecipe(ModelRecipe.Arch.GPT2, 257, 1, 16, 2, 2, 32, 64, true).writeRandom(3, model);
    writeChatTemplate(model);
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    IngestConfig ingestConfig = ingestConfig(name, topics, clients, work, ingestSettings);
    KafkaStreams ingest = IngestStreams.create(ingestConfig, new IngestMetrics(meters));
    TrainerService trainer = new TrainerService(trainerConfig(name, topics, clients, model, trainerSettings), work.resolve("trainer"), Clock.systemUTC(), new TrainerMetrics(meters));
    Pipeline pipeline = new Pipeline(topics, model, clients, ingest, trainer);
    ingest.start();
    pipeline.trainerThread.start();
    return pipeline;
  }

  /** A ChatML template, as instruct models have one, so that chat-formatted feedback trains too. */
  private static void writeChatTemplate(Path model) {
    try {
      Files.writeString(model.resolve("chat_template.jinja"), """
          {%- for message in messages %}
          {{- '<|im_start|>' + message.role + '\n' + message.content | trim + '<|im_end|>\n' }}
          {%- endfor %}
          {%- if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}
          """);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static IngestConfig ingestConfig(String name, Topics topics, Clients clients, Path work, Map<String, String> settings) {
    Map<String, Object> props = new HashMap<>(clients.props());
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "e2e-ingest-" + name);
    props.put(StreamsConfig.STATE_DIR_CONFIG, work.resolve("streams").toString());
    props.put(IngestConfig.FEEDBACK_PAIRS_TOPIC, topics.feedbackPairs());
    props.put(IngestConfig.FEEDBACK_RATINGS_TOPIC, topics.feedbackRatings());
    props.put(IngestConfig.FEEDBACK_RANKINGS_TOPIC, topics.feedbackRankings());
    props.put(IngestConfig.PREFERENCE_PAIRS_TOPIC, topics.preferencePairs());
    props.put(IngestConfig.DLQ_TOPIC, topics.dlq());
    // ratings pair up within a second: a rating sent a few seconds later closes the window
    props.put(IngestConfig.RATINGS_WINDOW_MS, "1000");
    props.put(IngestConfig.RATINGS_MAX_PER_PROMPT, String.valueOf(MAX_RATINGS_PER_PROMPT));
    props.put(IngestConfig.MAX_RECORD_BYTES, String.valueOf(MAX_RECORD_BYTES)); // under the broker's 1 MB, so a test can send a larger one
    props.put(IngestConfig.RATINGS_GRACE_MS, "0");
    // a small request size, so that two long ratings fill one prompt's window: (300,000 - 64 KiB) / 2 bytes
    props.put("producer.max.request.size", "300000");
    props.put(IngestConfig.METRICS_PORT, "-1");
    props.putAll(settings);
    return IngestConfig.parse(props);
  }

  private static TrainerConfig trainerConfig(String name, Topics topics, Clients clients, Path model, Map<String, String> settings) {
    Map<String, Object> props = new HashMap<>(clients.props());
    props.put(TrainerConfig.MODEL_NAME, MODEL);
    props.put(TrainerConfig.MODEL_DIR, model.toString());
    props.put(TrainerConfig.TRAINER_ID, "e2e-trainer-" + name);
    props.put(TrainerConfig.PAIRS_TOPIC, topics.preferencePairs());
    props.put(TrainerConfig.MODEL_TOPIC, topics.models());
    props.put(TrainerConfig.METRICS_TOPIC, topics.metrics());
    props.put(TrainerConfig.BATCH_PAIRS, String.valueOf(BATCH_PAIRS));
    props.put(TrainerConfig.CHECKPOINT_STEPS, "10");
    // the last steps before the feedback stops reach a checkpoint within a second
    props.put(TrainerConfig.CHECKPOINT_INTERVAL_MS, "1000");
    props.put(TrainerConfig.MAX_LENGTH, "64");
    props.put(TrainerConfig.EVAL_FRACTION, "0");
    props.put(TrainerConfig.LR, "1e-3");
    props.put(TrainerConfig.METRICS_PORT, "-1");
    props.putAll(settings);
    return TrainerConfig.parse(props);
  }

  Topics topics() {
    return topics;
  }

  /** The name the trainer publishes its checkpoints under. */
  String modelName() {
    return MODEL;
  }

  /** The folder the policy started from, which is also the frozen reference. */
  Path baseModel() {
    return baseModel;
  }

  /** The newest checkpoint version the trainer published, 0 before the first. */
  long checkpointVersion() {
    return trainer.version();
  }

  /** Neither service stopped: the trainer's thread runs, Kafka Streams is running or rebalancing. */
  void assertRunning() {
    assertThat(trainerThread.isAlive()).as("trainer thread alive; it failed with %s", trainerFailure.get()).isTrue();
    assertThat(ingest.state()).as("ingest state; it failed with %s", ingestFailure.get()).isIn(KafkaStreams.State.RUNNING, KafkaStreams.State.REBALANCING);
  }

  /** preference.pairs as the trainer reads it: pairs, rankings and labelled responses. */
  List<ConsumerRecord<String, SpecificRecord>> preferencePairs() {
    RecordDeserializer<SpecificRecord> values = RecordDeserializer.ofAny(PreferencePair.class, RankedResponses.class, LabelledResponse.class);
    values.configure(clients.props(), false);
    return clients.readAll(topics.preferencePairs(), new StringDeserializer(), values);
  }

  /** The event id of every record on preference.pairs, repeats included. */
  List<String> pairEventIds() {
    return preferencePairs().stream().map(r -> {
      if (r.value() instanceof PreferencePair p) return p.getEventId();
      if (r.value() instanceof RankedResponses ranking) return ranking.getEventId();
      return ((LabelledResponse) r.value()).getEventId();
    }).toList();
  }

  List<ConsumerRecord<byte[], byte[]>> deadLetters() {
    return clients.readAll(topics.dlq(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /** The trainer's TrainingMetrics records, one per logged step. */
  List<TrainingMetrics> trainingMetrics() {
    RecordDeserializer<SpecificRecord> values = RecordDeserializer.ofAny(TrainingMetrics.class);
    values.configure(clients.props(), false);
    return clients.readAll(topics.metrics(), new StringDeserializer(), values).stream().map(r -> (TrainingMetrics) r.value()).toList();
  }

  /** The published manifests of the model, read_committed. */
  List<CheckpointManifest> manifests() {
    Map<String, Object> props = new HashMap<>(clients.props());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (var consumer = new KafkaConsumer<>(props, new StringDeserializer(), ModelTopic.deserializer(props))) {
      return new ModelTopicReader(consumer, topics.models()).manifests(MODEL);
    }
  }

  /**
   * Waits until the manifests cover every record of preference.pairs, and checks that none is
   * covered twice. A covered range may span a transaction marker, which is no record: so every
   * record must be covered, not every covered offset be a record.
   */
  void awaitEveryPairTrainedOnce() {
    await().atMost(CATCH_UP).untilAsserted(() -> {
      List<String> records = preferencePairs().stream().map(r -> r.partition() + "@" + r.offset()).toList();
      assertThat(CoveredInputs.of(manifests())).doesNotHaveDuplicates().containsAll(records);
    });
  }

  /** Stops the trainer (it publishes a last checkpoint) and then ingest. */
  @Override
  public void close() throws InterruptedException {
    running.set(false);
    try {
      trainerThread.join(Duration.ofSeconds(60).toMillis());
    } finally {
      trainer.close();
      ingest.close(Duration.ofSeconds(30));
    }
  }
}
