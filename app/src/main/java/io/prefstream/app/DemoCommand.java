package io.prefstream.app;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.broker.LocalBroker;
import io.prefstream.broker.TopicCatalog;
import io.prefstream.broker.TopicCreator;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.ingest.IngestMetrics;
import io.prefstream.ingest.IngestStreams;
import io.prefstream.publisher.ModelTopic;
import io.prefstream.publisher.PendingChunks;
import io.prefstream.publisher.RolloutAgent;
import io.prefstream.publisher.ServingNotifier;
import io.prefstream.publisher.VersionFolders;
import io.prefstream.schemas.serde.AvroSerializer;
import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.trainer.service.TrainerConfig;
import io.prefstream.trainer.service.TrainerMetrics;
import io.prefstream.trainer.service.TrainerService;
import io.prefstream.trainer.tokenize.ChatTemplate;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/**
 * The embedded demo: one JVM runs a KRaft broker, the topics, the ingest topology, the trainer, a
 * rollout agent and a simulated user population with a known ground-truth preference, and shows
 * the policy learning it.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "Runs the whole pipeline in one JVM on simulated feedback with a known ground truth; Ctrl-C stops it with a summary.")
final class DemoCommand implements Callable<Integer> {
  private static final String SCOPE = "mock://prefstream-demo";
  /** How long the stop waits for the trainer's last checkpoint to be rolled out and measured. */
  private static final Duration LAST_CHECKPOINT_WAIT = Duration.ofSeconds(20);
  /** How long the stop waits for ingest to read the last events the users sent. */
  private static final Duration INGEST_SETTLE_WAIT = Duration.ofSeconds(10);

  @Option(names = "--duration", defaultValue = "3m", converter = DurationConverter.class, description = "How long to run, e.g. 90s, 3m (default: ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(names = "--model", description = {"Policy model folder (Hugging Face layout); default: a project-made tiny GPT-2 with a byte-level tokenizer.",
      "With a chat template, the simulated users chat: prompts are the user's messages, responses the assistant's."})
  Path model;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--population", defaultValue = "mixed",
      description = "mixed: pairs, star ratings and rankings; thumbs: single thumbs up/down only, which ingest turns into labelled responses (ratings.unpaired) and the trainer learns from with KTO (default: ${DEFAULT-VALUE}).")
  String population;

  @Option(names = "--out", defaultValue = "./demo-out", description = "Output folder: the pre-trained base model (cached), the rolled-out checkpoints and report.html (default: ${DEFAULT-VALUE}).")
  Path out;

  @Override
  public Integer call() throws Exception {
    if (!population.equals("mixed") && !population.equals("thumbs")) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--population is mixed or thumbs, not " + population);
    }
    Files.createDirectories(out);
    Path work = out.resolve("run"); // broker data, Streams and trainer state of this run: the next run starts afresh
    if (Files.exists(work)) Folders.deleteTree(work);
    Files.createDirectories(work);
    Path logFile = out.resolve("logs").resolve("demo.log");
    Files.createDirectories(logFile.getParent());
    System.out.println("logs (Kafka, Kafka Streams, DJL, prefstream): " + logFile.toAbsolutePath());
    try (LogsToFile logs = LogsToFile.open(logFile)) {
      return run(work);
    }
  }

  /** Single thumbs only, learnt with KTO. */
  private boolean thumbs() {
    return population.equals("thumbs");
  }

  private int run(Path work) throws Exception {
    Path policy = model != null ? model : DemoBaseModel.prepare(out.resolve("base-model"));
    Optional<ChatTemplate> chat = ChatTemplate.fromFolder(policy);
    try (StopSignal signal = StopSignal.install("demo"); PolicyProbe probe = new PolicyProbe(policy, chat);
        LocalBroker broker = LocalBroker.start(0, work.resolve("kafka"))) {
      DemoHistory history = new DemoHistory(probe.reference(), thumbs());
      System.out.printf(Locale.ROOT, "reference: ground-truth reward of %d samples %+.3f, e.g. \"%s\"%n",
          history.reference().samples(), history.reference().meanReward(), history.reference().example());
      String bootstrap = broker.bootstrapServers();
      new TopicCreator(bootstrap, Map.of(), TopicCreator.DEFAULT_TIMEOUT).create(TopicCatalog.all(), null, (short) 1);
      System.out.println("broker " + bootstrap + ", topics created, policy " + policy + (chat.isPresent() ? " (chat: feedback as messages, rendered with its chat template)" : ""));

      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      IngestMetrics ingestMetrics = new IngestMetrics(meters);
      try (KafkaStreams ingest = ingest(bootstrap, work, ingestMetrics, thumbs());
          TrainerService trainer = new TrainerService(trainerConfig(bootstrap, policy), work.resolve("trainer"), Clock.systemUTC(), new TrainerMetrics(meters))) {
        ingest.start();
        Path servingRoot = out.resolve("serving");
        VersionFolders serving = new VersionFolders(servingRoot);
        AtomicBoolean rollingOut = new AtomicBoolean(true); // outlives the signal: the last checkpoint still rolls out
        CheckpointProbing probing = new CheckpointProbing(trainer, servingRoot, probe, history);
        AtomicLong sent = new AtomicLong();
        Thread trainerThread = start("demo-trainer", () -> trainer.run(signal::running));
        Thread rolloutThread = start("demo-rollout", () -> rollout(bootstrap, serving, rollingOut::get));
        Thread probeThread = start("demo-probe", probing);
        Thread usersThread = start("demo-users", () -> simulateUsers(bootstrap, signal, sent, chat.isPresent(), thumbs()));

        DemoProgress progress = new DemoProgress(trainer, meters, history);
        long deadline = System.nanoTime() + duration.toNanos();
        while (signal.running() && System.nanoTime() < deadline) {
          Thread.sleep(1_000);
          progress.tick(sent.get(), ingestMetrics.count("prefstream.ingest.rejected"));
        }
        signal.stop();
        usersThread.join();
        long settleUntil = System.nanoTime() + INGEST_SETTLE_WAIT.toNanos(); // ingest reads what the users sent last
        while (IngestTally.of(sent.get(), ingestMetrics).inFlight() > 0 && System.nanoTime() < settleUntil) Thread.sleep(100);
        IngestTally tally = IngestTally.of(sent.get(), ingestMetrics);
        trainerThread.join(); // it publishes a last checkpoint
        long lastVersion = trainer.version();
        long waitUntil = System.nanoTime() + LAST_CHECKPOINT_WAIT.toNanos();
        while (probing.measured() < lastVersion && System.nanoTime() < waitUntil) Thread.sleep(100);
        rollingOut.set(false);
        probing.stop();
        rolloutThread.join();
        probeThread.join();

        Path report = DemoReport.write(out.resolve("report.html"), history, List.of(
            String.format(Locale.ROOT, "%d optimizer steps, %d checkpoints, %d feedback events; policy %s.", trainer.steps(), trainer.version(), sent.get(), policy),
            "Users prefer reviews with more positive and fewer negative words (ground truth: (positive - negative) / words), with Bradley-Terry noise."));
        printSummary(history, tally, ingestMetrics, trainer, serving, report);
      }
    }
    return 0;
  }

  private void printSummary(DemoHistory history, IngestTally tally, IngestMetrics ingestMetrics, TrainerService trainer, VersionFolders serving,
      Path report) {
    System.out.println();
    System.out.println("summary");
    System.out.printf("  feedback events sent       %d%n", tally.sent());
    System.out.printf("    accepted by ingest       %d%n", tally.accepted());
    System.out.printf("    dropped as repeats       %d%n", tally.repeats());
    System.out.printf("    sent to the DLQ          %d%n", tally.deadLettered());
    System.out.printf("    in flight at stop        %d%n", tally.inFlight());
    System.out.printf("  accepted ratings later in the DLQ (window closed or full)  %d%n", tally.ratingsDeadLetteredLater());
    System.out.printf("  pairs made from ratings    %.0f%n", ingestMetrics.count("prefstream.ingest.rating.pairs"));
    System.out.printf("  optimizer steps            %d%n", trainer.steps());
    System.out.printf("  checkpoints published      %d%n", trainer.version());
    System.out.println();
    System.out.printf("  %-38s %10s -> %s%n", "", "before", "after");
    for (DemoHistory.Row row : history.beforeAfter()) System.out.printf("  %-38s %10s -> %s%n", row.name(), row.before(), row.after());
    System.out.println();
    System.out.printf("  rolled-out checkpoint      %s%n", serving.current().map(v -> out.resolve("serving").resolve(Long.toString(v)).toAbsolutePath().toString()).orElse("none yet"));
    System.out.printf("  report                     %s%n", report.toAbsolutePath());
  }

  private static Thread start(String name, Runnable work) {
    Thread thread = new Thread(work, name);
    thread.start();
    return thread;
  }

  private static KafkaStreams ingest(String bootstrap, Path work, IngestMetrics metrics, boolean unpairedRatings) {
    Map<String, Object> props = new HashMap<>();
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "prefstream-demo-ingest");
    props.put(StreamsConfig.STATE_DIR_CONFIG, work.resolve("streams").toString());
    props.put(SerdeConfig.SCHEMA_REGISTRY_URL, SCOPE);
    props.put(IngestConfig.RATINGS_WINDOW_MS, "5000");
    props.put(IngestConfig.RATINGS_GRACE_MS, "1000");
    props.put(IngestConfig.METRICS_PORT, "-1");
    props.put(IngestConfig.RATINGS_UNPAIRED, String.valueOf(unpairedRatings));
    return IngestStreams.create(IngestConfig.parse(props), metrics);
  }

  private static TrainerConfig trainerConfig(String bootstrap, Path policy) {
    Map<String, Object> props = new HashMap<>();
    props.put("bootstrap.servers", bootstrap);
    props.put(SerdeConfig.SCHEMA_REGISTRY_URL, SCOPE);
    props.put(TrainerConfig.MODEL_NAME, "demo-policy");
    props.put(TrainerConfig.MODEL_DIR, policy.toString());
    props.put(TrainerConfig.BATCH_PAIRS, "16");
    props.put(TrainerConfig.CHECKPOINT_STEPS, "40");
    props.put(TrainerConfig.CHECKPOINT_INTERVAL_MS, "30000");
    props.put(TrainerConfig.EVAL_FRACTION, "0.1");
    props.put(TrainerConfig.LR, "2e-4");
    // a stronger pull to the reference than the default 0.1: as accurate, at a third of the KL (see the README)
    props.put(TrainerConfig.BETA, "0.5");
    props.put(TrainerConfig.WARMUP_STEPS, "5");
    props.put(TrainerConfig.MAX_LENGTH, "128");
    props.put(TrainerConfig.METRICS_PORT, "-1");
    return TrainerConfig.parse(props);
  }

  private static void rollout(String bootstrap, VersionFolders serving, BooleanSupplier running) {
    Map<String, Object> props = new HashMap<>();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "demo-rollout");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 << 20);
    props.put(SerdeConfig.SCHEMA_REGISTRY_URL, SCOPE);
    RolloutAgent agent = new RolloutAgent("demo-policy", serving, Optional.empty(), PendingChunks.Limits.DEFAULT, OptionalDouble.empty(), 3, ServingNotifier.NONE);
    try (var consumer = new KafkaConsumer<>(props, new StringDeserializer(), ModelTopic.deserializer(props))) {
      agent.run(consumer, TopicCatalog.MODEL_CHECKPOINTS, running);
    }
  }

  private static void simulateUsers(String bootstrap, StopSignal signal, AtomicLong sent, boolean chat, boolean thumbs) {
    FeedbackSimulator users = new FeedbackSimulator(42, chat);
    AvroSerializer<SpecificRecord> avro = new AvroSerializer<>();
    avro.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, SCOPE), false);
    try (var producer = new KafkaProducer<>(Map.<String, Object>of("bootstrap.servers", bootstrap), new ByteArraySerializer(), new ByteArraySerializer())) {
      while (signal.running()) {
        long now = System.currentTimeMillis();
        for (FeedbackSimulator.Event e : thumbs ? List.of(users.nextThumb(now)) : users.next(now)) {
          byte[] value = e.malformed() != null ? e.malformed() : avro.serialize(e.topic(), e.record());
          producer.send(new ProducerRecord<>(e.topic(), e.key().getBytes(StandardCharsets.UTF_8), value));
          sent.incrementAndGet();
        }
        Thread.sleep(20); // about 50 users' events a second
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** "90s", "3m", "1h" or an ISO-8601 duration. */
  static final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      String v = value.trim().toLowerCase(Locale.ROOT);
      if (v.startsWith("p")) return Duration.parse(value);
      long n = Long.parseLong(v.replaceAll("[a-z]+$", ""));
      return switch (v.replaceAll("^[0-9]+", "")) {
        case "ms" -> Duration.ofMillis(n);
        case "s", "" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> throw new IllegalArgumentException("duration '" + value + "': use e.g. 90s, 3m or 1h");
      };
    }
  }
}
