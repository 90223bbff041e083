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
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The ingest topology next to a plain consumer and producer copying the same bytes on the same
 * local broker ({@link RawPipe}): how much exactly-once, validation and de-duplication cost.
 *
 * <p>Each side copies a backlog of {@code --records} pairs already in its input topic, timed from
 * the moment it is ready (Kafka Streams RUNNING; the raw clients connected) until the last record
 * is readable {@code read_committed} on its output. Before that, each side copies a fifth as many
 * in a run of its own, so neither is timed with a cold JIT or includes its start-up. Then, still
 * running, each gets {@value #PROBES} probes at {@value #PROBES_PER_SECOND} per second: the
 * end-to-end latency from a probe's send to its arrival, {@code read_committed}, on the output.
 */
@Command(
    name = "ingest",
    mixinStandardHelpOptions = true,
    description = "Times the ingest topology on a local broker against a plain consumer+producer copying the same records; prints "
        + "RESULT ingest_pairs_per_s=.. raw_pairs_per_s=.. ratio=.. ingest_p50_ms=.. ingest_p99_ms=.. raw_p50_ms=.. raw_p99_ms=..")
final class BenchIngestCommand implements Callable<Integer> {
  private static final Duration LIMIT = Duration.ofMinutes(5);
  private static final String RAW_IN = "bench.raw.in";
  private static final String RAW_OUT = "bench.raw.out";
  private static final String REGISTRY = "mock://bench-ingest";
  static final int PROBES = 5_000;
  static final int PROBES_PER_SECOND = 1_000;

  @Option(names = "--records", defaultValue = "50000", description = "Pairs in the timed backlog (default: ${DEFAULT-VALUE}).")
  int records;

  /** Starts one side of the comparison, ready to copy. */
  private interface Starter {
    BenchPipe start() throws InterruptedException;
  }

  /** One side's throughput and end-to-end latencies (milliseconds, sorted). */
  private record Measured(double pairsPerSecond, double[] latencyMs) {
    double percentile(double p) {
      return latencyMs[(int) Math.round(p * (latencyMs.length - 1))];
    }
  }

  @Override
  public Integer call() throws Exception {
    Path dir = Files.createTempDirectory("prefstream-bench-ingest");
    try (LocalBroker broker = LocalBroker.start(0, dir.resolve("kafka"))) {
      String bootstrap = broker.bootstrapServers();
      new TopicCreator(bootstrap, Map.of(), TopicCreator.DEFAULT_TIMEOUT).create(TopicCatalog.all(), 1, (short) 1);
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
        admin.createTopics(List.of(new NewTopic(RAW_IN, 1, (short) 1), new NewTopic(RAW_OUT, 1, (short) 1))).all().get();
      }
      Measured raw = measure(bootstrap, RAW_IN, RAW_OUT, () -> RawPipe.start(bootstrap, RAW_IN, RAW_OUT, LIMIT));
      IngestConfig config = ingestConfig(bootstrap, dir.resolve("state"));
      Measured ingest = measure(bootstrap, TopicCatalog.FEEDBACK_PAIRS, TopicCatalog.PREFERENCE_PAIRS, () -> TopologyPipe.start(config, LIMIT));
      System.out.printf(Locale.ROOT,
          "RESULT ingest_pairs_per_s=%.0f raw_pairs_per_s=%.0f ratio=%.3f ingest_p50_ms=%.0f ingest_p99_ms=%.0f raw_p50_ms=%.0f raw_p99_ms=%.0f records=%d%n",
          ingest.pairsPerSecond(), raw.pairsPerSecond(), ingest.pairsPerSecond() / raw.pairsPerSecond(),
          ingest.percentile(0.50), ingest.percentile(0.99), raw.percentile(0.50), raw.percentile(0.99), records);
    } finally {
      Folders.deleteTree(dir);
    }
    return 0;
  }

  private Measured measure(String bootstrap, String in, String out, Starter starter) throws InterruptedException {
    int warmUp = Math.max(1_000, records / 5);
    produce(bootstrap, pairs(in, "warm-up", warmUp));
    try (OutputWatch watch = new OutputWatch(bootstrap, out, PROBES)) {
      try (BenchPipe warm = starter.start()) {
        watch.awaitCount(warmUp, LIMIT);
      }
      produce(bootstrap, pairs(in, "timed", records));
      try (BenchPipe pipe = starter.start()) {
        long done = watch.awaitCount(warmUp + records, LIMIT);
        double pairsPerSecond = records / ((done - pipe.readyNanos()) / 1e9);
        try (ProbeSender probes = ProbeSender.start(bootstrap, pairs(in, "probe", PROBES), PROBES_PER_SECOND)) {
          watch.awaitCount(warmUp + records + PROBES, LIMIT);
          long[] sent = probes.sentNanos();
          long[] arrived = watch.probeArrivalNanos();
          double[] latencyMs = new double[PROBES];
          for (int i = 0; i < PROBES; i++) latencyMs[i] = (arrived[i] - sent[i]) / 1e6;
          Arrays.sort(latencyMs);
          return new Measured(pairsPerSecond, latencyMs);
        }
      }
    }
  }

  private static IngestConfig ingestConfig(String bootstrap, Path stateDir) {
    Map<String, Object> props = new HashMap<>();
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
  private static List<ProducerRecord<byte[], byte[]>> pairs(String topic, String kind, int n) {
    AvroSerializer<PreferencePair> serializer = new AvroSerializer<>();
    serializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, REGISTRY), false);
    long now = System.currentTimeMillis();
    List<ProducerRecord<byte[], byte[]>> pairs = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String promptId = kind.equals("probe") ? OutputWatch.PROBE_KEY_PREFIX + i : "prompt-" + (i % 1000);
      byte[] value = serializer.serialize(TopicCatalog.FEEDBACK_PAIRS, PreferencePair.newBuilder().setEventId("bench-" + kind + "-" + i)
          .setPromptId(promptId).setPrompt("Write a haiku about Kafka, number " + i)
          .setChosen("Logs flow like rivers / partitions hold the seasons / offsets never lie")
          .setRejected("Kafka is a system.").setEventTime(now).build());
      pairs.add(new ProducerRecord<>(topic, promptId.getBytes(StandardCharsets.UTF_8), value));
    }
    return pairs;
  }

  private static void produce(String bootstrap, List<ProducerRecord<byte[], byte[]>> records) {
    try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      records.forEach(producer::send);
    }
  }
}
