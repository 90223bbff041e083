package io.prefstream.app;

import io.prefstream.broker.LocalBroker;
import io.prefstream.broker.TopicCatalog;
import io.prefstream.broker.TopicCreator;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.serde.AvroSerializer;
import io.prefstream.schemas.serde.SerdeConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.StreamsConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The ingest topology next to the bare Kafka work on the same local broker, two ways:
 *
 * <ul>
 *   <li><b>copy</b>: each side copies a backlog of {@code --records} pairs already in its input
 *       topic, timed from the moment it is ready (Kafka Streams RUNNING; the raw clients connected)
 *       until the last record is readable {@code read_committed} on its output; raw is a plain
 *       consumer and producer ({@link RawPipe}) copying topic to topic;
 *   <li><b>pipeline</b>: each side is timed from its first send of {@code --records} pairs until the
 *       last of them is readable {@code read_committed}: raw reads its input topic itself (produce
 *       and consume), ingest's reader reads {@code preference.pairs} while the running topology
 *       copies.
 * </ul>
 *
 * The sides take turns, {@code --rounds} times, and the medians are reported. Before that each side
 * runs both measurements untimed on a fifth as many pairs, so nothing is timed with a cold JIT. Last,
 * the copy sides get {@value #PROBES} probes at {@value #PROBES_PER_SECOND} per second: the
 * end-to-end latency from a probe's send to its arrival, {@code read_committed}, on the output.
 */
@Command(
    name = "ingest",
    mixinStandardHelpOptions = true,
    description = "Times the ingest topology on a local broker against a plain consumer+producer copying the same records; prints "
        + "RESULT ingest_pairs_per_s=.. raw_pairs_per_s=.. ratio=.. ingest_cpu_us_per_pair=.. raw_cpu_us_per_pair=.. pipeline_ingest_pairs_per_s=.. pipeline_raw_pairs_per_s=.. pipeline_ratio=.. "
        + "ingest_p50_ms=.. ingest_p99_ms=.. raw_p50_ms=.. raw_p99_ms=..")
final class BenchIngestCommand implements Callable<Integer> {
  private static final Duration LIMIT = Duration.ofMinutes(5);
  private static final String RAW_IN = "bench.raw.in";
  private static final String RAW_OUT = "bench.raw.out";
  private static final String RAW_PIPELINE = "bench.raw.pipeline";
  private static final String REGISTRY = "mock://bench-ingest";
  static final int PROBES = 5_000;
  static final int PROBES_PER_SECOND = 1_000;

  @Option(names = "--records", defaultValue = "50000", description = "Pairs in the timed backlog (default: ${DEFAULT-VALUE}).")
  int records;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "An ingest setting for the topology, as in its properties file (repeatable), e.g. --set commit.interval.ms=100.")
  Map<String, String> settings = new HashMap<>();

  @Option(names = "--rounds", defaultValue = "3", description = "Back-to-back measurements of each side, alternating (default: ${DEFAULT-VALUE}); the medians are reported.")
  int rounds;

  @Option(names = "--log-file", defaultValue = "bench-out/bench-ingest.log",
      description = "Where the broker's, Kafka Streams' and prefstream's log lines go, so that the console shows the rounds and the RESULT (default: ${DEFAULT-VALUE}).")
  Path logFile;

  @Override
  public Integer call() throws Exception {
    Path dir = Files.createTempDirectory("prefstream-bench-ingest");
    Files.createDirectories(logFile.toAbsolutePath().getParent());
    System.out.println("logs (Kafka, Kafka Streams, prefstream): " + logFile.toAbsolutePath());
    try (LogsToFile logs = LogsToFile.open(logFile); LocalBroker broker = LocalBroker.start(0, dir.resolve("kafka"))) {
      String bootstrap = broker.bootstrapServers();
      new TopicCreator(bootstrap, Map.of(), TopicCreator.DEFAULT_TIMEOUT).create(TopicCatalog.all(), 1, (short) 1);
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
        admin.createTopics(List.of(new NewTopic(RAW_IN, 1, (short) 1), new NewTopic(RAW_OUT, 1, (short) 1), new NewTopic(RAW_PIPELINE, 1, (short) 1))).all().get();
      }
      IngestConfig config = ingestConfig(bootstrap, dir.resolve("state"), settings);
      try (BenchSide raw = new BenchSide(bootstrap, RAW_IN, RAW_OUT, () -> RawPipe.start(bootstrap, RAW_IN, RAW_OUT, LIMIT), BenchIngestCommand::pairs, PROBES, LIMIT);
          BenchSide produceConsume = new BenchSide(bootstrap, RAW_PIPELINE, RAW_PIPELINE, () -> BenchPipe.NONE, BenchIngestCommand::pairs, 0, LIMIT);
          BenchSide ingest = new BenchSide(bootstrap, TopicCatalog.FEEDBACK_PAIRS, TopicCatalog.PREFERENCE_PAIRS, () -> TopologyPipe.start(config, LIMIT),
              BenchIngestCommand::pairs, PROBES, LIMIT)) {
        int warmUp = Math.max(1_000, records / 5);
        raw.warmUp(warmUp);
        ingest.warmUp(warmUp);
        produceConsume.pipeline("warm-up", warmUp);
        ingest.pipeline("warm-up-pipeline", warmUp);
        Rates copy = new Rates(rounds);
        Rates pipeline = new Rates(rounds);
        Rates cpu = new Rates(rounds);
        for (int r = 0; r < rounds; r++) {
          BenchSide.Copy ingestCopy = ingest.throughput("timed-" + r, records);
          BenchSide.Copy rawCopy = raw.throughput("timed-" + r, records);
          copy.add(r, ingestCopy.pairsPerSecond(), rawCopy.pairsPerSecond());
          cpu.add(r, ingestCopy.cpuMicrosPerPair(), rawCopy.cpuMicrosPerPair());
          pipeline.add(r, ingest.pipeline("pipeline-" + r, records), produceConsume.pipeline("pipeline-" + r, records));
          System.out.printf(Locale.ROOT, "round %d: copy: ingest %.0f pairs/s (%.1f cpu us/pair), raw %.0f pairs/s (%.1f cpu us/pair), ratio %.3f; "
                  + "pipeline: ingest %.0f pairs/s, raw %.0f pairs/s, ratio %.3f%n",
              r + 1, copy.ingest[r], cpu.ingest[r], copy.raw[r], cpu.raw[r], copy.ratio[r], pipeline.ingest[r], pipeline.raw[r], pipeline.ratio[r]);
        }
        double[] rawMs = raw.latenciesMs(PROBES, PROBES_PER_SECOND);
        double[] ingestMs = ingest.latenciesMs(PROBES, PROBES_PER_SECOND);
        System.out.printf(Locale.ROOT,
            "RESULT ingest_pairs_per_s=%.0f raw_pairs_per_s=%.0f ratio=%.3f ingest_cpu_us_per_pair=%.1f raw_cpu_us_per_pair=%.1f pipeline_ingest_pairs_per_s=%.0f pipeline_raw_pairs_per_s=%.0f pipeline_ratio=%.3f "
                + "ingest_p50_ms=%.0f ingest_p99_ms=%.0f raw_p50_ms=%.0f raw_p99_ms=%.0f records=%d rounds=%d%n",
            median(copy.ingest), median(copy.raw), median(copy.ratio), median(cpu.ingest), median(cpu.raw), median(pipeline.ingest), median(pipeline.raw), median(pipeline.ratio),
            percentile(ingestMs, 0.50), percentile(ingestMs, 0.99), percentile(rawMs, 0.50), percentile(rawMs, 0.99), records, rounds);
      }
    } finally {
      Folders.deleteTree(dir);
    }
    return 0;
  }

  /** Each round's rates (or costs) of one measurement, ingest and raw, and their ratio. */
  private record Rates(double[] ingest, double[] raw, double[] ratio) {
    Rates(int rounds) {
      this(new double[rounds], new double[rounds], new double[rounds]);
    }

    void add(int round, double ingestRate, double rawRate) {
      ingest[round] = ingestRate;
      raw[round] = rawRate;
      ratio[round] = ingestRate / rawRate;
    }
  }

  private static double median(double[] values) {
    return percentile(values.clone(), 0.5);
  }

  /** The p-quantile of the values, sorting them in place (nearest rank). */
  private static double percentile(double[] values, double p) {
    Arrays.sort(values);
    return values[(int) Math.round(p * (values.length - 1))];
  }

  private static IngestConfig ingestConfig(String bootstrap, Path stateDir, Map<String, String> settings) {
    Map<String, Object> props = new HashMap<>(settings);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "bench-ingest");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    props.put(SerdeConfig.SCHEMA_REGISTRY_URL, REGISTRY);
    return IngestConfig.parse(props);
  }

  /**
   * Valid, distinct pairs as Confluent-wire Avro, keyed by prompt id: 1,000 prompts shared by the
   * backlog's pairs, a prompt of its own ({@code probe-<i>}) for each probe.
   */
  private static List<ProducerRecord<byte[], byte[]>> pairs(String topic, String batch, int n) {
    AvroSerializer<PreferencePair> serializer = new AvroSerializer<>();
    serializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, REGISTRY), false);
    long now = System.currentTimeMillis();
    List<ProducerRecord<byte[], byte[]>> pairs = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String promptId = batch.equals("probe") ? OutputWatch.PROBE_KEY_PREFIX + i : "prompt-" + (i % 1000);
      byte[] value = serializer.serialize(TopicCatalog.FEEDBACK_PAIRS, PreferencePair.newBuilder().setEventId("bench-" + batch + "-" + i)
          .setPromptId(promptId).setPrompt("Write a haiku about Kafka, number " + i)
          .setChosen("Logs flow like rivers / partitions hold the seasons / offsets never lie")
          .setRejected("Kafka is a system.").setEventTime(now).build());
      pairs.add(new ProducerRecord<>(topic, promptId.getBytes(StandardCharsets.UTF_8), value));
    }
    return pairs;
  }
}
