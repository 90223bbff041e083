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
 *       topic, timed from the moment the backlog becomes readable (it is written in a transaction
 *       that commits once the side runs) until the last record is readable {@code read_committed}
 *       on its output; raw is a plain
 *       consumer and producer ({@link RawPipe}) copying topic to topic;
 *   <li><b>pipeline</b>: each side is timed from its first send of {@code --records} pairs until the
 *       last of them is readable {@code read_committed}: raw reads its input topic itself (produce
 *       and consume), ingest's reader reads {@code preference.pairs} while the running topology
 *       copies.
 * </ul>
 *
 * Two ceilings run the copy too ({@link StreamsCeiling}): Kafka Streams copying the bytes under
 * ingest's own settings (exactly-once v2, commits) with none of its work, and the same with one
 * changelogged store put per pair; what they reach is what Kafka Streams and its guarantees allow
 * on the machine. The sides take turns, {@code --rounds} times, and the medians are reported. Before that each side
 * runs both measurements untimed on a fifth as many pairs, so nothing is timed with a cold JIT. Last,
 * raw, the pass-through ceiling and ingest get {@value #PROBES} probes at {@value #PROBES_PER_SECOND} per second: the
 * end-to-end latency from a probe's send to its arrival, {@code read_committed}, on the output.
 */
@Command(
    name = "ingest",
    mixinStandardHelpOptions = true,
    description = "Times the ingest topology on a local broker against a plain consumer+producer copying the same records, and against "
        + "Kafka Streams copying them under ingest's settings (pass-through; with a changelogged store put per pair); prints "
        + "RESULT ingest_pairs_per_s=.. raw_pairs_per_s=.. ratio=.. ingest_cpu_us_per_pair=.. raw_cpu_us_per_pair=.. streams_passthrough_pairs_per_s=.. "
        + "streams_stored_pairs_per_s=.. passthrough_cpu_us_per_pair=.. stored_cpu_us_per_pair=.. ratio_to_passthrough=.. ratio_to_stored=.. "
        + "passthrough_ratio=.. stored_ratio=.. pipeline_ingest_pairs_per_s=.. pipeline_raw_pairs_per_s=.. pipeline_ratio=.. "
        + "pipeline_passthrough_pairs_per_s=.. pipeline_passthrough_ratio=.. pipeline_ratio_to_passthrough=.. ingest_p50_ms=.. ingest_p99_ms=.. passthrough_p50_ms=.. "
        + "passthrough_p99_ms=.. raw_p50_ms=.. raw_p99_ms=..")
final class BenchIngestCommand implements Callable<Integer> {
  private static final Duration LIMIT = Duration.ofMinutes(5);
  private static final String RAW_IN = "bench.raw.in";
  private static final String RAW_OUT = "bench.raw.out";
  private static final String RAW_PIPELINE = "bench.raw.pipeline";
  private static final String PASS_IN = "bench.streams.in";
  private static final String PASS_OUT = "bench.streams.out";
  private static final String STORED_IN = "bench.stored.in";
  private static final String STORED_OUT = "bench.stored.out";
  private static final String REGISTRY = "mock://bench-ingest";
  static final int PROBES = 5_000;
  static final int PROBES_PER_SECOND = 1_000;

  @Option(names = "--records", defaultValue = "50000", description = "Pairs in the timed backlog (default: ${DEFAULT-VALUE}).")
  int records;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "An ingest setting for the topology, as in its properties file (repeatable), e.g. --set commit.interval.ms=100.")
  Map<String, String> settings = new HashMap<>();

  @Option(names = "--partitions", defaultValue = "1",
      description = "Partitions of every topic the bench uses (default: ${DEFAULT-VALUE}; ingest's own default is 3); more than one stream thread takes --set num.stream.threads=N.")
  int partitions;

  @Option(names = "--rounds", defaultValue = "3", description = "Back-to-back measurements of each side, alternating (default: ${DEFAULT-VALUE}); the medians are reported.")
  int rounds;

  @Option(names = "--log-file", defaultValue = "bench-out/bench-ingest.log",
      description = "Where the broker's, Kafka Streams' and prefstream's log lines go, so that the console shows the rounds and the RESULT (default: ${DEFAULT-VALUE}).")
  Path logFile;

  @Override
  public Integer call() throws Exception {
    Files.createDirectories(logFile.toAbsolutePath().getParent());
    Path dir = Files.createTempDirectory("prefstream-bench-ingest");
    System.out.println("logs (Kafka, Kafka Streams, prefstream): " + logFile.toAbsolutePath());
    try (LogsToFile logs = LogsToFile.open(logFile); LocalBroker broker = LocalBroker.start(0, dir.resolve("kafka"))) {
      String bootstrap = broker.bootstrapServers();
      new TopicCreator(bootstrap, Map.of(), TopicCreator.DEFAULT_TIMEOUT).create(TopicCatalog.all(), partitions, (short) 1);
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
        admin.createTopics(List.of(RAW_IN, RAW_OUT, RAW_PIPELINE, PASS_IN, PASS_OUT, STORED_IN, STORED_OUT).stream()
            .map(name -> new NewTopic(name, partitions, (short) 1)).toList()).all().get();
      }
      IngestConfig config = ingestConfig(bootstrap, dir.resolve("state"), settings);
      try (BenchSide raw = new BenchSide(bootstrap, RAW_IN, RAW_OUT, () -> RawPipe.start(bootstrap, RAW_IN, RAW_OUT, LIMIT), BenchIngestCommand::pairs, PROBES, LIMIT);
          BenchSide produceConsume = new BenchSide(bootstrap, RAW_PIPELINE, RAW_PIPELINE, () -> BenchPipe.NONE, BenchIngestCommand::pairs, 0, LIMIT);
          BenchSide passThrough = new BenchSide(bootstrap, PASS_IN, PASS_OUT, () -> TopologyPipe.start(StreamsCeiling.passThrough(PASS_IN, PASS_OUT, config),
              StreamsCeiling.streamsProperties(config, "bench-streams-passthrough"), LIMIT), BenchIngestCommand::pairs, PROBES, LIMIT);
          BenchSide stored = new BenchSide(bootstrap, STORED_IN, STORED_OUT, () -> TopologyPipe.start(StreamsCeiling.stored(STORED_IN, STORED_OUT, config),
              StreamsCeiling.streamsProperties(config, "bench-streams-stored"), LIMIT), BenchIngestCommand::pairs, 0, LIMIT);
          BenchSide ingest = new BenchSide(bootstrap, TopicCatalog.FEEDBACK_PAIRS, TopicCatalog.PREFERENCE_PAIRS, () -> TopologyPipe.start(config, LIMIT),
              BenchIngestCommand::pairs, PROBES, LIMIT)) {
        int warmUp = Math.max(1_000, records / 5);
        for (BenchSide side : List.of(raw, passThrough, stored, ingest)) side.warmUp(warmUp);
        produceConsume.pipeline("warm-up", warmUp);
        passThrough.pipeline("warm-up-pipeline", warmUp);
        ingest.pipeline("warm-up-pipeline", warmUp);
        Rounds copy = new Rounds(rounds);
        Rounds cpu = new Rounds(rounds);
        Rounds pipeline = new Rounds(rounds);
        for (int r = 0; r < rounds; r++) {
          BenchSide.Copy ingestCopy = ingest.throughput("timed-" + r, records);
          BenchSide.Copy rawCopy = raw.throughput("timed-" + r, records);
          BenchSide.Copy passCopy = passThrough.throughput("timed-" + r, records);
          BenchSide.Copy storedCopy = stored.throughput("timed-" + r, records);
          copy.add(r, ingestCopy.pairsPerSecond(), rawCopy.pairsPerSecond(), passCopy.pairsPerSecond(), storedCopy.pairsPerSecond());
          cpu.add(r, ingestCopy.cpuMicrosPerPair(), rawCopy.cpuMicrosPerPair(), passCopy.cpuMicrosPerPair(), storedCopy.cpuMicrosPerPair());
          double ingestPipeline = ingest.pipeline("pipeline-" + r, records);
          double rawPipeline = produceConsume.pipeline("pipeline-" + r, records);
          pipeline.add(r, ingestPipeline, rawPipeline, passThrough.pipeline("pipeline-" + r, records), Double.NaN);
          System.out.printf(Locale.ROOT, "round %d: copy pairs/s (cpu us/pair): ingest %.0f (%.1f), raw %.0f (%.1f), streams pass-through %.0f (%.1f), "
                  + "streams + store %.0f (%.1f); ingest/raw %.3f, ingest/pass-through %.3f; pipeline pairs/s: ingest %.0f, raw %.0f, streams pass-through %.0f, "
                  + "ingest/raw %.3f, ingest/pass-through %.3f%n",
              r + 1, copy.ingest[r], cpu.ingest[r], copy.raw[r], cpu.raw[r], copy.passThrough[r], cpu.passThrough[r], copy.stored[r], cpu.stored[r],
              copy.ingest[r] / copy.raw[r], copy.ingest[r] / copy.passThrough[r], pipeline.ingest[r], pipeline.raw[r], pipeline.passThrough[r],
              pipeline.ingest[r] / pipeline.raw[r], pipeline.ingest[r] / pipeline.passThrough[r]);
        }
        double[] rawMs = raw.latenciesMs(PROBES, PROBES_PER_SECOND);
        double[] passMs = passThrough.latenciesMs(PROBES, PROBES_PER_SECOND);
        double[] ingestMs = ingest.latenciesMs(PROBES, PROBES_PER_SECOND);
        System.out.printf(Locale.ROOT,
            "RESULT ingest_pairs_per_s=%.0f raw_pairs_per_s=%.0f ratio=%.3f ingest_cpu_us_per_pair=%.1f raw_cpu_us_per_pair=%.1f "
                + "streams_passthrough_pairs_per_s=%.0f streams_stored_pairs_per_s=%.0f passthrough_cpu_us_per_pair=%.1f stored_cpu_us_per_pair=%.1f "
                + "ratio_to_passthrough=%.3f ratio_to_stored=%.3f passthrough_ratio=%.3f stored_ratio=%.3f "
                + "pipeline_ingest_pairs_per_s=%.0f pipeline_raw_pairs_per_s=%.0f pipeline_ratio=%.3f pipeline_passthrough_pairs_per_s=%.0f pipeline_passthrough_ratio=%.3f "
                + "pipeline_ratio_to_passthrough=%.3f ingest_p50_ms=%.0f ingest_p99_ms=%.0f passthrough_p50_ms=%.0f passthrough_p99_ms=%.0f raw_p50_ms=%.0f raw_p99_ms=%.0f records=%d rounds=%d partitions=%d%n",
            median(copy.ingest), median(copy.raw), copy.medianRatio(copy.ingest, copy.raw), median(cpu.ingest), median(cpu.raw),
            median(copy.passThrough), median(copy.stored), median(cpu.passThrough), median(cpu.stored),
            copy.medianRatio(copy.ingest, copy.passThrough), copy.medianRatio(copy.ingest, copy.stored),
            copy.medianRatio(copy.passThrough, copy.raw), copy.medianRatio(copy.stored, copy.raw),
            median(pipeline.ingest), median(pipeline.raw), pipeline.medianRatio(pipeline.ingest, pipeline.raw),
            median(pipeline.passThrough), pipeline.medianRatio(pipeline.passThrough, pipeline.raw),
            pipeline.medianRatio(pipeline.ingest, pipeline.passThrough),
            percentile(ingestMs, 0.50), percentile(ingestMs, 0.99), percentile(passMs, 0.50), percentile(passMs, 0.99),
            percentile(rawMs, 0.50), percentile(rawMs, 0.99), records, rounds, partitions);
      }
    } finally {
      Folders.deleteTree(dir);
    }
    return 0;
  }

  /** Each round's rates (or costs) of one measurement, one array per side; a side it does not run stays NaN. */
  private record Rounds(double[] ingest, double[] raw, double[] passThrough, double[] stored) {
    Rounds(int rounds) {
      this(new double[rounds], new double[rounds], new double[rounds], new double[rounds]);
    }

    void add(int round, double ingestRate, double rawRate, double passThroughRate, double storedRate) {
      ingest[round] = ingestRate;
      raw[round] = rawRate;
      passThrough[round] = passThroughRate;
      stored[round] = storedRate;
    }

    /** The median over the rounds of each round's ratio: a side's rate moves with the machine's load, ratios of back-to-back runs less. */
    double medianRatio(double[] side, double[] base) {
      double[] ratios = new double[side.length];
      for (int r = 0; r < side.length; r++) ratios[r] = side[r] / base[r];
      return median(ratios);
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
