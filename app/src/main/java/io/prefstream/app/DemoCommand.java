package io.prefstream.app;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.broker.LocalBroker;
import io.prefstream.broker.TopicCatalog;
import io.prefstream.broker.TopicCreator;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.ingest.IngestMetrics;
import io.prefstream.ingest.IngestTopology;
import io.prefstream.publisher.CheckpointAssembler;
import io.prefstream.publisher.ModelTopic;
import io.prefstream.publisher.RolloutAgent;
import io.prefstream.publisher.ServingNotifier;
import io.prefstream.publisher.VersionFolders;
import io.prefstream.schemas.serde.AvroSerializer;
import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.trainer.model.ModelRecipe;
import io.prefstream.trainer.service.TrainerConfig;
import io.prefstream.trainer.service.TrainerMetrics;
import io.prefstream.trainer.service.TrainerService;
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
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
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

  @Option(names = "--duration", defaultValue = "3m", converter = DurationConverter.class, description = "How long to run, e.g. 90s, 3m (default: ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(names = "--model", description = "Policy model folder (Hugging Face layout); default: a project-made tiny GPT-2 with a byte-level tokenizer.")
  Path model;

  @Option(names = "--out", defaultValue = "./demo-out", description = "Output folder: the rolled-out checkpoints (default: ${DEFAULT-VALUE}).")
  Path out;

  @Override
  public Integer call() throws Exception {
    Files.createDirectories(out);
    Path work = Files.createTempDirectory("prefstream-demo");
    Path policy = model != null ? model : tinyModel(out.resolve("base-model"));
    try (StopSignal signal = StopSignal.install("demo"); LocalBroker broker = LocalBroker.start(0, work.resolve("kafka"))) {
      String bootstrap = broker.bootstrapServers();
      new TopicCreator(bootstrap, Map.of(), TopicCreator.DEFAULT_TIMEOUT).create(TopicCatalog.all(), null, (short) 1);
      System.out.println("broker " + bootstrap + ", topics created, policy " + policy);

      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      IngestMetrics ingestMetrics = new IngestMetrics(meters);
      try (KafkaStreams ingest = ingest(bootstrap, work, ingestMetrics);
          TrainerService trainer = new TrainerService(trainerConfig(bootstrap, policy), work.resolve("trainer"), Clock.systemUTC(), new TrainerMetrics(meters))) {
        ingest.start();
        Thread trainerThread = new Thread(() -> trainer.run(signal::running), "demo-trainer");
        VersionFolders serving = new VersionFolders(out.resolve("serving"));
        Thread rolloutThread = new Thread(() -> rollout(bootstrap, serving, signal), "demo-rollout");
        AtomicLong sent = new AtomicLong();
        Thread usersThread = new Thread(() -> simulateUsers(bootstrap, signal, sent), "demo-users");
        trainerThread.start();
        rolloutThread.start();
        usersThread.start();

        long start = System.nanoTime();
        long deadline = start + duration.toNanos();
        long lastSteps = 0;
        while (signal.running() && System.nanoTime() < deadline) {
          Thread.sleep(5_000); // the progress line's period
          long steps = trainer.steps();
          double seconds = (System.nanoTime() - start) / 1e9;
          String line = trainer.lastMetrics().map(m -> String.format(Locale.ROOT, "loss %.4f acc %.2f margin %+.3f", m.loss(), m.rewardAccuracy(), m.rewardMargin())).orElse("warming up");
          System.out.printf(Locale.ROOT, "[%4.0fs] events %d, step %d (%.2f steps/s), %s, checkpoint v%d, held-out acc %s, dlq %.0f%n",
              seconds, sent.get(), steps, (steps - lastSteps) / 5.0, line, trainer.version(), heldOut(trainer), ingestMetrics.count("prefstream.ingest.rejected"));
          lastSteps = steps;
        }
        signal.stop();
        usersThread.join();
        trainerThread.join();
        rolloutThread.join();
        System.out.println();
        System.out.println("summary");
        System.out.printf("  feedback events sent       %d%n", sent.get());
        System.out.printf("  accepted by ingest         %.0f%n", ingestMetrics.count("prefstream.ingest.accepted"));
        System.out.printf("  sent to the DLQ            %.0f%n", ingestMetrics.count("prefstream.ingest.rejected"));
        System.out.printf("  pairs made from ratings    %.0f%n", ingestMetrics.count("prefstream.ingest.rating.pairs"));
        System.out.printf("  optimizer steps            %d%n", trainer.steps());
        System.out.printf("  checkpoints published      %d%n", trainer.version());
        System.out.printf("  held-out reward accuracy   %s%n", heldOut(trainer));
        System.out.printf("  rolled-out checkpoint      %s%n", serving.current().map(v -> out.resolve("serving").resolve(Long.toString(v)).toAbsolutePath().toString()).orElse("none yet"));
      }
    }
    return 0;
  }

  private static String heldOut(TrainerService trainer) {
    return trainer.lastCheckpoint().map(c -> c.metrics().get(RolloutAgent.ACCURACY_METRIC))
        .map(acc -> String.format(Locale.ROOT, "%.2f", acc)).orElse("-");
  }

  private static Path tinyModel(Path dir) {
    if (!Files.exists(dir.resolve("config.json"))) {
      new ModelRecipe(ModelRecipe.Arch.GPT2, 257, 2, 64, 4, 4, 256, 128, true).writeRandom(0, dir);
    }
    return dir;
  }

  private static KafkaStreams ingest(String bootstrap, Path work, IngestMetrics metrics) {
    Map<String, Object> props = new HashMap<>();
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "prefstream-demo-ingest");
    props.put(StreamsConfig.STATE_DIR_CONFIG, work.resolve("streams").toString());
    props.put(SerdeConfig.SCHEMA_REGISTRY_URL, SCOPE);
    props.put(IngestConfig.RATINGS_WINDOW_MS, "5000");
    props.put(IngestConfig.RATINGS_GRACE_MS, "1000");
    props.put(IngestConfig.METRICS_PORT, "-1");
    IngestConfig config = IngestConfig.parse(props);
    Properties streamsProps = new Properties();
    streamsProps.putAll(config.streamsProperties());
    return new KafkaStreams(IngestTopology.build(config, metrics), streamsProps);
  }

  private static TrainerConfig trainerConfig(String bootstrap, Path policy) {
    Map<String, Object> props = new HashMap<>();
    props.put("bootstrap.servers", bootstrap);
    props.put(SerdeConfig.SCHEMA_REGISTRY_URL, SCOPE);
    props.put(TrainerConfig.MODEL_NAME, "demo-policy");
    props.put(TrainerConfig.MODEL_DIR, policy.toString());
    props.put(TrainerConfig.BATCH_PAIRS, "16");
    props.put(TrainerConfig.CHECKPOINT_STEPS, "20");
    props.put(TrainerConfig.CHECKPOINT_INTERVAL_MS, "30000");
    props.put(TrainerConfig.EVAL_FRACTION, "0.1");
    props.put(TrainerConfig.LR, "5e-4");
    props.put(TrainerConfig.WARMUP_STEPS, "5");
    props.put(TrainerConfig.MAX_LENGTH, "128");
    props.put(TrainerConfig.METRICS_PORT, "-1");
    return TrainerConfig.parse(props);
  }

  private static void rollout(String bootstrap, VersionFolders serving, StopSignal signal) {
    Map<String, Object> props = new HashMap<>();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "demo-rollout");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 << 20);
    props.put(SerdeConfig.SCHEMA_REGISTRY_URL, SCOPE);
    RolloutAgent agent = new RolloutAgent("demo-policy", serving, new CheckpointAssembler(Optional.empty()), OptionalDouble.empty(), 3, ServingNotifier.NONE);
    try (var consumer = new KafkaConsumer<>(props, new StringDeserializer(), ModelTopic.deserializer(props))) {
      consumer.subscribe(List.of(TopicCatalog.MODEL_CHECKPOINTS));
      agent.run(consumer, signal::running);
    }
  }

  private static void simulateUsers(String bootstrap, StopSignal signal, AtomicLong sent) {
    FeedbackSimulator users = new FeedbackSimulator(42);
    AvroSerializer<SpecificRecord> avro = new AvroSerializer<>();
    avro.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, SCOPE), false);
    try (var producer = new KafkaProducer<>(Map.<String, Object>of("bootstrap.servers", bootstrap), new ByteArraySerializer(), new ByteArraySerializer())) {
      while (signal.running()) {
        for (FeedbackSimulator.Event e : users.next(System.currentTimeMillis())) {
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
