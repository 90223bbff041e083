package io.prefstream.trainer.service;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.prefstream.publisher.Checkpoint;
import io.prefstream.publisher.ModelTopic;
import io.prefstream.publisher.ManifestSignature;
import io.prefstream.publisher.RolloutAgent;
import io.prefstream.publisher.SigningKeys;
import io.prefstream.schemas.OffsetRange;
import io.prefstream.schemas.LabelledResponse;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.schemas.TrainingMetrics;
import io.prefstream.schemas.serde.RecordDeserializer;
import io.prefstream.schemas.serde.SchemaRegistryException;
import io.prefstream.trainer.dpo.DpoStep;
import io.prefstream.trainer.dpo.LabelledExample;
import io.prefstream.trainer.dpo.PreferenceBatch;
import io.prefstream.trainer.dpo.PreferenceExample;
import io.prefstream.trainer.dpo.StepWorkers;
import io.prefstream.trainer.dpo.TrainingExample;
import io.prefstream.trainer.dpo.StepMetrics;
import io.prefstream.trainer.optim.LinearWarmup;
import io.prefstream.trainer.tokenize.ChatTokens;
import io.prefstream.trainer.tokenize.TextTokenizer;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The main loop: consume pairs (read_committed), train in batches, and every few steps publish a
 * checkpoint in the same Kafka transaction that commits the input offsets it covers (see {@link
 * TrainerTransactions}). On start it restores its own newest checkpoint from the model topic
 * ({@link CheckpointRestore}: weights and optimizer state) and resumes from the offsets committed
 * with it, so every pair is trained on exactly once; it refuses to start when it published
 * checkpoints but none of them restores.
 *
 * <p>Only offsets of pairs already used (trained on, or held out) are ever committed: pending pairs
 * are read again after a restart.
 */
public final class TrainerService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TrainerService.class);
  private static final Duration POLL_TIMEOUT = Duration.ofMillis(100);
  /** Dead letters wait in memory for the checkpoint that commits their offsets; past this many bytes, that checkpoint comes early. */
  private static final long HELD_DEAD_LETTER_BYTES = 64L << 20;

  private final TrainerConfig config;
  private final Path workDir;
  private final Clock clock;
  private final NDManager manager;
  private final HeldOutEvaluation evaluation = new HeldOutEvaluation();
  private final PendingPairs pending;
  private final StepLog stepLog = new StepLog();
  private final CheckpointWriter writer;
  private final TrainerMetrics metrics;
  private TrainedModels models;
  private DpoStep step;
  private StepWorkers workers;
  private volatile long steps;
  private volatile long version;
  private long lastCheckpointMillis;
  private volatile StepMetrics lastMetrics;
  private volatile PublishedCheckpoint lastCheckpoint;

  public TrainerService(TrainerConfig config, Path workDir, Clock clock, TrainerMetrics metrics) {
    this.metrics = metrics;
    this.config = config;
    this.workDir = workDir;
    this.clock = clock;
    this.pending = new PendingPairs(new HeldOutSplit(config.evalFraction()), evaluation, config.maxPendingBytes());
    this.writer = new CheckpointWriter(config, workDir, clock);
    Device device = ComputeDevice.resolve(config.device(), Engine.getInstance().getGpuCount());
    this.manager = NDManager.newBaseManager(device);
    log.info("training on {}", device);
  }

  /**
   * Trains until {@code running} says stop, then publishes a last checkpoint.
   *
   * @throws IllegalStateException when a training step fails (a bug, not bad input: what the model
   *     cannot take never reaches a step) or leaves non-finite weights; a restart resumes from the
   *     last published checkpoint
   */
  public void run(BooleanSupplier running) {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(); KafkaProducer<Object, Object> producer = producer();
        RecordDeserializer<SpecificRecord> values = pairDeserializer()) {
      Optional<KeyPair> signingKeys = signingKeys();
      TrainerTransactions transactions = new TrainerTransactions(producer, config, signingKeys);
      transactions.init();
      Optional<Checkpoint> restored = CheckpointRestore.newest(config, clientProps(), workDir, signingKeys.map(KeyPair::getPublic));
      models = TrainedModels.load(config, restored.map(Checkpoint::serving).orElse(config.modelDir()), manager);
      workers = StepWorkers.of(config.computeWorkers(), manager.getDevice(), models.policy(), config.dpo(), Runtime.getRuntime().availableProcessors());
      workers.applyThreads();
      log.info("a step computes {} micro-batch(es) at once{}", workers.workers(), workers.threads().map(t -> ", " + t + " PyTorch thread(s) each").orElse(""));
      step = new DpoStep(models.policy(), models.reference(), config.dpo(), new LinearWarmup(config.learningRate(), config.warmupSteps()), config.maxGradNorm(),
          config.weightDecay(), PreferenceBatch.Layout.PACKED, workers.workers());
      restored.ifPresent(this::resumeFrom);
      lastCheckpointMillis = clock.millis();
      ModelLimits limits = ModelLimits.of(models.policy().config(), config.maxResponses());
      if (config.maxLength() > limits.longestSequence()) {
        log.warn("{}={} is longer than the model takes ({} tokens): longer pairs are dead-lettered as {}", TrainerConfig.MAX_LENGTH, config.maxLength(),
            limits.longestSequence(), UnfitReason.TOO_LONG_FOR_MODEL.code());
      }
      consumer.subscribe(List.of(config.pairsTopic()));
      try (TextTokenizer tokenizer = TextTokenizer.fromFolder(config.modelDir()); PollingWhileBusy busy = new PollingWhileBusy()) {
        ExampleTokens tokens = new ExampleTokens(tokenizer, ChatTokens.fromFolder(config.modelDir(), tokenizer), config.maxLength(), config.maxPromptLength(), limits);
        Runnable poll = () -> poll(consumer, values, tokens);
        while (running.getAsBoolean()) {
          poll.run();
          pending.passUntrainableAtFront();
          if (pending.hasBatch(config.batchPairs())) {
            trainOneBatch(busy, poll);
            if (steps % config.logSteps() == 0) logStep(transactions, consumer);
            if (steps % config.checkpointSteps() == 0) checkpoint(transactions, consumer, busy, poll);
          }
          if (!pending.covered().isEmpty() && (clock.millis() - lastCheckpointMillis >= config.checkpointInterval().toMillis()
              || pending.deadLetterBytes() >= HELD_DEAD_LETTER_BYTES)) {
            checkpoint(transactions, consumer, busy, poll);
          }
        }
        if (!pending.covered().isEmpty()) checkpoint(transactions, consumer, busy, poll);
      }
    }
  }

  /**
   * One poll. Reading stops (the assignment paused) while two batches wait or the records held pass
   * max.pending.bytes, so memory stays bounded however slow the steps; polling goes on, which keeps
   * the consumer in its group.
   */
  private void poll(KafkaConsumer<byte[], byte[]> consumer, RecordDeserializer<SpecificRecord> values, ExampleTokens tokens) {
    if (pending.trainable() >= 2L * config.batchPairs() || pending.isFull()) {
      consumer.pause(consumer.assignment());
    } else if (!consumer.paused().isEmpty()) {
      consumer.resume(consumer.paused());
    }
    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL_TIMEOUT)) read(r, values, tokens);
  }

  private Optional<KeyPair> signingKeys() {
    Optional<KeyPair> keys = config.signingKey().map(SigningKeys::read);
    keys.ifPresentOrElse(k -> log.info("signing manifests with {} (public key fingerprint {})", config.signingKey().get(), ManifestSignature.fingerprint(k.getPublic())),
        () -> log.warn("{} is not set: manifests go out unsigned, and rollout agents with --public-key refuse them", TrainerConfig.SIGNING_KEY));
    return keys;
  }

  /** Adds a record to the pending ones: as an example, or as an unfit record for the DLQ. */
  private void read(ConsumerRecord<byte[], byte[]> r, RecordDeserializer<SpecificRecord> values, ExampleTokens tokens) {
    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
    if (!pending.isNew(tp, r.offset())) return;
    try {
      SpecificRecord value = decode(r, values);
      pending.add(tp, r.offset(), tokens.of(value), eventTime(value), Math.max(0, r.serializedKeySize()) + Math.max(0, r.serializedValueSize()));
    } catch (UnfitExampleException e) {
      log.warn("{}-{} offset {} goes to {}: {} ({})", r.topic(), r.partition(), r.offset(), config.dlqTopic(), e.reason().code(), e.getMessage());
      metrics.deadLettered(e.reason());
      pending.addUnfit(UnfitRecord.of(r, e));
    }
  }

  /**
   * The pair or ranking in a record. Bytes that do not decode are unfit; a schema registry that
   * does not answer is not the record's fault, and stops the trainer.
   */
  private static SpecificRecord decode(ConsumerRecord<byte[], byte[]> r, RecordDeserializer<SpecificRecord> values) {
    try {
      SpecificRecord value = values.deserialize(r.topic(), r.headers(), r.value());
      if (value == null) throw new UnfitExampleException(UnfitReason.UNDESERIALIZABLE, "the record has no value (a tombstone)");
      return value;
    } catch (SchemaRegistryException e) {
      if (e.status() == 404) throw new UnfitExampleException(UnfitReason.UNDESERIALIZABLE, e.getMessage(), e);
      throw e;
    } catch (SerializationException e) {
      if (e.getCause() instanceof SchemaRegistryException registry && registry.status() != 404) throw e;
      throw new UnfitExampleException(UnfitReason.UNDESERIALIZABLE, e.getMessage(), e);
    }
  }

  private void trainOneBatch(PollingWhileBusy busy, Runnable poll) {
    List<TrainingExample> batch = pending.takeBatch(config.batchPairs());
    // the mix is the topic's: each kind with its own loss, the step's loss their weighted mean over all examples
    List<PreferenceExample> preferences = new ArrayList<>();
    List<LabelledExample> labelled = new ArrayList<>();
    for (TrainingExample e : batch) {
      if (e instanceof PreferenceExample p) preferences.add(p);
      else labelled.add((LabelledExample) e);
    }
    long started = System.nanoTime();
    StepMetrics m;
    try {
      long stepNumber = steps + 1;
      m = busy.run(() -> {
        StepMetrics stepped = step.step(MicroBatches.of(preferences, microBatchTokens()), MicroBatches.ofLabelled(labelled, microBatchTokens()));
        config.referenceSync().ifPresent(sync -> {
          if (sync.mixIfDue(stepNumber, models.policy(), models.reference())) log.info("step {}: TR-DPO mixed the policy into the reference (α = {})", stepNumber, sync.mixupAlpha());
        });
        return stepped;
      }, poll);
    } catch (RuntimeException e) {
      throw new IllegalStateException("training step " + (steps + 1) + " failed on examples " + batch.stream().map(TrainingExample::id).toList()
          + ". Every example was checked against the model first, so this is a bug, not bad input; stopping. A restart resumes from checkpoint v"
          + version + ": " + e.getMessage(), e);
    }
    steps++;
    lastMetrics = m;
    metrics.stepped(m.examples(), m.skipped());
    stepLog.stepped(steps, m, (System.nanoTime() - started) / 1e9);
  }

  /** A micro-batch's share of the token budget: the workers' micro-batches are in memory at once. */
  private int microBatchTokens() {
    return Math.max(1, config.microBatchTokens() / workers.workers());
  }

  /** Every log.steps steps: one compact log line, the Prometheus gauges and a TrainingMetrics record. */
  private void logStep(TrainerTransactions transactions, KafkaConsumer<byte[], byte[]> consumer) {
    Map<String, Double> values = stepLog.log(steps, lastMetrics, lag(consumer));
    metrics.logged(values);
    transactions.publishMetrics(new TrainingMetrics(config.modelName(), config.trainerId(), steps, clock.millis(), values));
  }

  private static long lag(KafkaConsumer<byte[], byte[]> consumer) {
    long lag = 0;
    for (TopicPartition tp : consumer.assignment()) lag += consumer.currentLag(tp).orElse(0);
    return lag;
  }

  /**
   * Publishes a checkpoint of what was used since the last one. The worker writes and publishes it
   * while this thread polls; what it covers is fixed here first, as records read meanwhile are not
   * in it.
   */
  private void checkpoint(TrainerTransactions transactions, KafkaConsumer<byte[], byte[]> consumer, PollingWhileBusy busy, Runnable poll) {
    List<OffsetRange> ranges = pending.covered().asRanges();
    Map<TopicPartition, OffsetAndMetadata> offsets = pending.covered().toCommit();
    List<UnfitRecord> deadLetters = pending.deadLetters();
    List<PreferenceExample> heldOutSet = evaluation.examples();
    ConsumerGroupMetadata group = consumer.groupMetadata();
    long newestEventTime = pending.newestEventTime();
    long next = version + 1;
    Optional<Map<String, Double>> published = busy.run(() -> {
      if (!allFinite()) {
        // the update of a non-finite gradient is skipped, so only a step gone wrong gets here, and no step will mend it
        throw new IllegalStateException("weights are not finite after step " + steps + ": checkpoint v" + next
            + " not published; stopping. A restart resumes from checkpoint v" + version + " (the pairs since are read again)");
      }
      Map<String, Double> measured = new LinkedHashMap<>();
      if (lastMetrics != null) measured.putAll(lastMetrics.asMap());
      measured.putAll(evaluation.measure(models, config.dpo(), manager));
      measured.put("skipped_batches", (double) stepLog.skipped());
      if (newestEventTime >= 0) measured.put("freshness_ms", (double) (clock.millis() - newestEventTime));
      try (CheckpointWriter.Written written = writer.write(next, steps, models, step.optimizer(), measured, ranges, newestEventTime, heldOutSet)) {
        return transactions.commitCheckpoint(written, deadLetters, offsets, group) ? Optional.of(measured) : Optional.<Map<String, Double>>empty();
      } // committed or given up, its files are deleted: every checkpoint is full weights and optimizer state
    }, poll);
    if (published.isEmpty()) return; // what it covers goes into the next one
    Map<String, Double> measured = published.get();
    metrics.logged(measured);
    version = next;
    lastCheckpoint = new PublishedCheckpoint(version, steps, measured);
    pending.checkpointed();
    lastCheckpointMillis = clock.millis();
    long freshness = newestEventTime < 0 ? -1 : clock.millis() - newestEventTime;
    String heldOut = measured.containsKey(RolloutAgent.ACCURACY_METRIC)
        ? "held-out accuracy " + StepLog.fmt(measured.get(RolloutAgent.ACCURACY_METRIC)) + " margin " + StepLog.fmt(measured.get("eval/rewards/margins"))
        : "no held-out pairs yet";
    log.info("checkpoint v{} at step {}: {}, feedback-to-checkpoint {} ms", version, steps, heldOut, freshness);
  }

  private boolean allFinite() {
    for (NDArray p : models.policy().parameters().values()) {
      if (p.isInfinite().any().getBoolean() || p.isNaN().any().getBoolean()) return false;
    }
    return true;
  }

  private void resumeFrom(Checkpoint restored) {
    version = restored.version();
    TrainerState state = TrainerState.restore(restored.companion(), step.optimizer(), manager);
    steps = state.step();
    state.heldOut().forEach(evaluation::add);
    if (config.referenceSync().isPresent() && !models.restoreReference(restored.companion(), manager)) {
      log.warn("checkpoint v{} has no reference (written with {} off): the reference starts again from where it was loaded", version, TrainerConfig.SYNC_REF_MODEL);
    }
    log.info("resuming at step {} with {} held-out examples", steps, state.heldOut().size());
  }

  /** Reads bytes, so that a record the trainer cannot use goes to the DLQ as it came. */
  private KafkaConsumer<byte[], byte[]> consumer() {
    Map<String, Object> props = clientProps();
    props.put(ConsumerConfig.GROUP_ID_CONFIG, config.trainerId());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private RecordDeserializer<SpecificRecord> pairDeserializer() {
    RecordDeserializer<SpecificRecord> values = RecordDeserializer.ofAny(PreferencePair.class, RankedResponses.class, LabelledResponse.class);
    values.configure(clientProps(), false);
    return values;
  }

  private KafkaProducer<Object, Object> producer() {
    Map<String, Object> props = clientProps();
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.trainerId());
    props.putIfAbsent(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 << 20);
    // a checkpoint's chunks go out in one transaction: at the default 60 s, the broker aborted that of
    // a 335M-parameter model (4 GB with AdamW's moments) on a busy machine. 15 min is the broker's
    // default transaction.max.timeout.ms.
    props.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 900_000);
    return new KafkaProducer<>(props, RecordsOrBytes.keys(), new RecordsOrBytes(ModelTopic.serializer(props)));
  }

  private Map<String, Object> clientProps() {
    return new HashMap<>(config.passThrough());
  }

  private static long eventTime(SpecificRecord r) {
    if (r instanceof LabelledResponse l) return l.getEventTime();
    return r instanceof PreferencePair p ? p.getEventTime() : ((RankedResponses) r).getEventTime();
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
