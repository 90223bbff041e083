package io.prefstream.trainer.service;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.prefstream.publisher.Checkpoint;
import io.prefstream.publisher.CheckpointCutter;
import io.prefstream.publisher.CheckpointPublisher;
import io.prefstream.publisher.ModelTopic;
import io.prefstream.publisher.ModelTopicReader;
import io.prefstream.publisher.RolloutAgent;
import io.prefstream.publisher.VersionFolders;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.schemas.TrainingMetrics;
import io.prefstream.schemas.serde.RecordDeserializer;
import io.prefstream.trainer.dpo.DpoStep;
import io.prefstream.trainer.dpo.PreferenceExample;
import io.prefstream.trainer.dpo.PreferenceLoss;
import io.prefstream.trainer.dpo.PreferenceScore;
import io.prefstream.trainer.dpo.PreferenceScorer;
import io.prefstream.trainer.dpo.StepMetrics;
import io.prefstream.trainer.optim.LinearWarmup;
import io.prefstream.trainer.tokenize.TextTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The main loop: consume pairs (read_committed), train in batches, and every few steps publish a
 * checkpoint in the same Kafka transaction that commits the input offsets it covers. On start it
 * restores the newest checkpoint of its model from the model topic (weights and optimizer state)
 * and resumes from the offsets committed with it, so every pair is trained on exactly once.
 *
 * <p>Only offsets of pairs already used (trained on, or held out) are ever committed: pending pairs
 * are read again after a restart.
 */
public final class TrainerService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TrainerService.class);
  private static final int EVAL_SET_SIZE = 256;

  private record Pending(TopicPartition partition, long offset, PreferenceExample example, boolean heldOut, long eventTime) {}

  private final TrainerConfig config;
  private final Path workDir;
  private final Clock clock;
  private final NDManager manager;
  private final CoveredOffsets covered = new CoveredOffsets();
  private final Deque<Pending> pending = new ArrayDeque<>();
  /** Per partition, the offset after the last pair read: what the consumer should deliver next. */
  private final Map<TopicPartition, Long> nextInHand = new HashMap<>();
  private final Deque<PreferenceExample> evalSet = new ArrayDeque<>();
  private final HeldOutSplit split;
  private final TrainerMetrics metrics;
  private long loggedAtNanos = System.nanoTime();
  private long examplesSinceLog;
  private long tokensSinceLog;
  private TrainedModels models;
  private DpoStep step;
  private volatile long steps;
  private volatile long version;
  private long newestEventTime = -1;
  private long lastCheckpointMillis;
  private volatile StepMetrics lastMetrics;
  private long skipped;
  private volatile PublishedCheckpoint lastCheckpoint;

  public TrainerService(TrainerConfig config, Path workDir, Clock clock, TrainerMetrics metrics) {
    this.metrics = metrics;
    this.config = config;
    this.workDir = workDir;
    this.clock = clock;
    this.split = new HeldOutSplit(config.evalFraction());
    Device device = ComputeDevice.resolve(config.device(), Engine.getInstance().getGpuCount());
    this.manager = NDManager.newBaseManager(device);
    log.info("training on {}", device);
  }

  /** Trains until {@code running} says stop, then publishes a last checkpoint. */
  public void run(BooleanSupplier running) {
    try (KafkaConsumer<String, SpecificRecord> consumer = consumer(); KafkaProducer<String, SpecificRecord> producer = producer()) {
      producer.initTransactions(); // fences an older trainer with the same id
      models = TrainedModels.load(config, restore(), manager);
      step = new DpoStep(models.policy(), models.reference(), config.dpo(), new LinearWarmup(config.learningRate(), config.warmupSteps()), config.maxGradNorm(), config.weightDecay());
      restoreOptimizer();
      lastCheckpointMillis = clock.millis();
      consumer.subscribe(List.of(config.pairsTopic()));
      try (TextTokenizer tokenizer = TextTokenizer.fromFolder(config.modelDir())) {
        ExampleTokens tokens = new ExampleTokens(tokenizer, config.maxLength(), config.maxPromptLength());
        while (running.getAsBoolean()) {
          for (ConsumerRecord<String, SpecificRecord> r : consumer.poll(java.time.Duration.ofMillis(200))) {
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            // a rebalance that lost the partitions (e.g. the broker restarted) puts the position back at
            // the last commit: the pairs since are pending or trained already, and the next checkpoint covers them
            if (r.offset() < nextInHand.getOrDefault(tp, 0L)) continue;
            nextInHand.put(tp, r.offset() + 1);
            PreferenceExample example = tokens.of(r.value());
            pending.add(new Pending(tp, r.offset(), example, split.isHeldOut(example.id()), eventTime(r.value())));
          }
          while (trainingPending() >= config.batchPairs()) {
            trainOneBatch();
            if (steps % config.logSteps() == 0) logStep(producer, consumer);
            if (steps % config.checkpointSteps() == 0) checkpoint(producer, consumer);
          }
          if (!covered.isEmpty() && clock.millis() - lastCheckpointMillis >= config.checkpointInterval().toMillis()) checkpoint(producer, consumer);
        }
        if (!covered.isEmpty()) checkpoint(producer, consumer);
      }
    }
  }

  private long trainingPending() {
    return pending.stream().filter(p -> !p.heldOut()).count();
  }

  /** Takes pending pairs in order until a batch is full; held-out ones go to the evaluation set. */
  private void trainOneBatch() {
    List<PreferenceExample> batch = new ArrayList<>();
    while (batch.size() < config.batchPairs()) {
      Pending p = pending.poll();
      covered.consumed(p.partition(), p.offset());
      newestEventTime = Math.max(newestEventTime, p.eventTime());
      if (p.heldOut()) {
        evalSet.add(p.example());
        if (evalSet.size() > EVAL_SET_SIZE) evalSet.poll();
      } else {
        batch.add(p.example());
      }
    }
    StepMetrics m = step.step(MicroBatches.of(batch, config.microBatchTokens()));
    steps++;
    lastMetrics = m;
    metrics.stepped(m.examples(), m.skipped());
    examplesSinceLog += m.examples();
    tokensSinceLog += m.tokens();
    if (m.skipped()) {
      skipped++;
      log.warn("step {} skipped: non-finite loss or gradient (loss {}, grad norm {})", steps, m.loss(), m.gradNorm());
    }
  }

  /** Every log.steps steps: one compact log line, the Prometheus gauges and a TrainingMetrics record. */
  private void logStep(KafkaProducer<String, SpecificRecord> producer, KafkaConsumer<String, SpecificRecord> consumer) {
    StepMetrics m = lastMetrics;
    double seconds = Math.max(1e-9, (System.nanoTime() - loggedAtNanos) / 1e9);
    Map<String, Double> values = new LinkedHashMap<>(m.asMap());
    values.put("pairs_per_s", examplesSinceLog / seconds);
    values.put("tokens_per_s", tokensSinceLog / seconds);
    values.put("consumer_lag", (double) lag(consumer));
    values.put("skipped_batches", (double) skipped);
    loggedAtNanos = System.nanoTime();
    examplesSinceLog = 0;
    tokensSinceLog = 0;
    metrics.logged(values);
    log.info("step {} loss {} acc {} margin {} grad_norm {} lr {} pairs/s {} tokens/s {} lag {}", steps, fmt(m.loss()), fmt(m.rewardAccuracy()),
        fmt(m.rewardMargin()), fmt(m.gradNorm()), m.learningRate(), fmt(values.get("pairs_per_s")), fmt(values.get("tokens_per_s")), values.get("consumer_lag").longValue());
    transact(producer, "metrics of step " + steps, () ->
        producer.send(new ProducerRecord<>(config.metricsTopic(), config.modelName(), new TrainingMetrics(config.modelName(), config.trainerId(), steps, clock.millis(), values))));
  }

  /**
   * Runs the sends in one transaction. A Kafka failure aborts it and returns false (the caller
   * tries again later); being fenced by a newer trainer of the same id stops this one.
   */
  private boolean transact(KafkaProducer<String, SpecificRecord> producer, String what, Runnable sends) {
    try {
      producer.beginTransaction();
      sends.run();
      untilDone(what, producer::commitTransaction);
      return true;
    } catch (ProducerFencedException | InvalidProducerEpochException e) {
      throw fenced(e);
    } catch (KafkaException e) {
      log.warn("{} not published: {}", what, e.getMessage());
      try {
        producer.abortTransaction();
      } catch (ProducerFencedException | InvalidProducerEpochException f) {
        throw fenced(f);
      }
      return false;
    }
  }

  /**
   * Runs a blocking transactional call until it completes. One that timed out (the broker away for
   * longer than max.block.ms) is still under way in the producer, which then refuses any other
   * call, abortTransaction included: repeating the same call is the only way on.
   */
  private static void untilDone(String what, Runnable call) {
    while (true) {
      try {
        call.run();
        return;
      } catch (TimeoutException e) {
        log.warn("{} not done within max.block.ms, trying again: {}", what, e.getMessage());
      }
    }
  }

  private IllegalStateException fenced(KafkaException e) {
    return new IllegalStateException("another trainer with id " + config.trainerId() + " took over; stopping", e);
  }

  private static long lag(KafkaConsumer<String, SpecificRecord> consumer) {
    long lag = 0;
    for (TopicPartition tp : consumer.assignment()) lag += consumer.currentLag(tp).orElse(0);
    return lag;
  }

  private void checkpoint(KafkaProducer<String, SpecificRecord> producer, KafkaConsumer<String, SpecificRecord> consumer) {
    if (!allFinite()) {
      log.error("weights are not finite after step {}: checkpoint v{} not published", steps, version + 1);
      return;
    }
    Map<String, Double> measured = new LinkedHashMap<>();
    if (lastMetrics != null) measured.putAll(lastMetrics.asMap());
    measured.putAll(evaluate());
    measured.put("skipped_batches", (double) skipped);
    if (newestEventTime >= 0) measured.put("freshness_ms", (double) (clock.millis() - newestEventTime));
    metrics.logged(measured);
    long next = version + 1;
    Path serving = workDir.resolve("publish/" + next + "/model");
    Path state = workDir.resolve("publish/" + next + "/state");
    models.save(serving);
    new TrainerState(steps, next, List.copyOf(evalSet)).save(step.optimizer(), state);
    CheckpointManifest.Builder manifest = CheckpointManifest.newBuilder().setModelName(config.modelName()).setVersion(next)
        .setParentVersion(version == 0 ? null : version).setCreatedTime(clock.millis()).setTrainerId(config.trainerId()).setStep(steps)
        .setFiles(List.of()).setChunkCount(0).setMetrics(measured).setCoveredOffsets(covered.asRanges())
        .setNewestEventTime(newestEventTime < 0 ? null : newestEventTime);
    CheckpointCutter.Cut cut = new CheckpointCutter(CheckpointCutter.DEFAULT_CHUNK_BYTES).cut(serving, state, manifest);
    boolean published = transact(producer, "checkpoint v" + next, () -> {
      new CheckpointPublisher(config.modelTopic()).publish(producer, cut);
      untilDone("checkpoint v" + next, () -> producer.sendOffsetsToTransaction(covered.toCommit(), consumer.groupMetadata()));
    });
    if (!published) return; // the pairs it covers stay uncommitted and go into the next one
    version = next;
    lastCheckpoint = new PublishedCheckpoint(version, steps, measured);
    covered.clear();
    lastCheckpointMillis = clock.millis();
    long freshness = newestEventTime < 0 ? -1 : clock.millis() - newestEventTime;
    String heldOut = measured.containsKey(RolloutAgent.ACCURACY_METRIC)
        ? "held-out accuracy " + fmt(measured.get(RolloutAgent.ACCURACY_METRIC)) + " margin " + fmt(measured.get("eval/rewards/margins"))
        : "no held-out pairs yet";
    log.info("checkpoint v{} at step {}: {}, feedback-to-checkpoint {} ms", version, steps, heldOut, freshness);
  }

  private Map<String, Double> evaluate() {
    if (evalSet.isEmpty()) return Map.of();
    try (PreferenceLoss loss = new PreferenceLoss(config.dpo(), manager)) {
      List<PreferenceScore> scores = new PreferenceScorer(models.policy(), models.reference(), loss).score(new ArrayList<>(evalSet));
      double correct = 0;
      double margin = 0;
      for (PreferenceScore s : scores) {
        int last = s.policyLogProbs().length - 1;
        if (s.reward(0) > s.reward(last)) correct++;
        margin += s.reward(0) - s.reward(last);
      }
      return Map.of(RolloutAgent.ACCURACY_METRIC, correct / scores.size(), "eval/rewards/margins", margin / scores.size(), "eval/examples", (double) scores.size());
    }
  }

  private boolean allFinite() {
    for (NDArray p : models.policy().parameters().values()) {
      if (p.isInfinite().any().getBoolean() || p.isNaN().any().getBoolean()) return false;
    }
    return true;
  }

  /** The newest checkpoint of the model from the model topic, written under the work folder; else the configured folder. */
  private Path restore() {
    Map<String, Object> props = clientProps();
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.GROUP_ID_CONFIG, config.trainerId() + "-restore");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.putIfAbsent(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 << 20);
    try (var reader = new KafkaConsumer<>(props, new StringDeserializer(), ModelTopic.deserializer(props))) {
      Optional<Checkpoint> newest = new ModelTopicReader(reader, config.modelTopic()).checkpoint(config.modelName(), Optional.empty(), Optional.empty());
      if (newest.isEmpty()) {
        log.info("no checkpoint of {} yet: starting from {}", config.modelName(), config.modelDir());
        return config.modelDir();
      }
      version = newest.get().manifest().getVersion();
      Path restored = new VersionFolders(workDir.resolve("restored")).write(version, newest.get().files());
      Path state = workDir.resolve("restored-state-" + version);
      for (var f : newest.get().files().entrySet()) {
        if (!f.getKey().startsWith(CheckpointCutter.COMPANION_PREFIX)) continue;
        Path file = state.resolve(f.getKey().substring(CheckpointCutter.COMPANION_PREFIX.length()));
        Files.createDirectories(file.getParent());
        Files.write(file, f.getValue());
      }
      log.info("restored {} v{} from {}", config.modelName(), version, config.modelTopic());
      return restored;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot restore the newest checkpoint", e);
    }
  }

  private void restoreOptimizer() {
    if (version == 0) return;
    TrainerState state = TrainerState.restore(workDir.resolve("restored-state-" + version), step.optimizer(), manager);
    steps = state.step();
    evalSet.addAll(state.heldOut());
    log.info("resuming at step {} with {} held-out examples", steps, evalSet.size());
  }

  private KafkaConsumer<String, SpecificRecord> consumer() {
    Map<String, Object> props = clientProps();
    props.put(ConsumerConfig.GROUP_ID_CONFIG, config.trainerId());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    RecordDeserializer<SpecificRecord> values = RecordDeserializer.ofAny(PreferencePair.class, RankedResponses.class);
    values.configure(props, false);
    return new KafkaConsumer<>(props, new StringDeserializer(), values);
  }

  private KafkaProducer<String, SpecificRecord> producer() {
    Map<String, Object> props = clientProps();
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.trainerId());
    props.putIfAbsent(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 << 20);
    return new KafkaProducer<>(props, new StringSerializer(), ModelTopic.serializer(props));
  }

  private Map<String, Object> clientProps() {
    return new HashMap<>(config.passThrough());
  }

  private static long eventTime(SpecificRecord r) {
    return r instanceof PreferencePair p ? p.getEventTime() : ((RankedResponses) r).getEventTime();
  }

  private static String fmt(double v) {
    return String.format(java.util.Locale.ROOT, "%.4f", v);
  }

  /** Optimizer steps taken, counting those before a restore. */
  public long steps() {
    return steps;
  }

  /** The newest published checkpoint version, 0 before the first. */
  public long version() {
    return version;
  }

  /** The last step's metrics, if a step was made. */
  public Optional<StepMetrics> lastMetrics() {
    return Optional.ofNullable(lastMetrics);
  }

  /** The newest checkpoint this trainer published, if it published one. */
  public Optional<PublishedCheckpoint> lastCheckpoint() {
    return Optional.ofNullable(lastCheckpoint);
  }

  @Override
  public void close() {
    if (step != null) step.close();
    manager.close();
  }
}
