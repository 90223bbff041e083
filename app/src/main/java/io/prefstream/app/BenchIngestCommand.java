package io.prefstream.app;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.broker.LocalBroker;
import io.prefstream.broker.TopicCatalog;
import io.prefstream.broker.TopicCreator;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.ingest.IngestMetrics;
import io.prefstream.ingest.IngestTopology;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.serde.AvroSerializer;
import io.prefstream.schemas.serde.SerdeConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The ingest topology's throughput next to the raw produce+consume rate of the same bytes, on a
 * local single-node broker: how much validation, de-duplication and exactly-once cost.
 */
@Command(
    name = "ingest",
    mixinStandardHelpOptions = true,
    description = "Times the ingest topology on a local broker against raw produce+consume of the same records; prints RESULT ingest_pairs_per_s=.. raw_pairs_per_s=.. ratio=..")
final class BenchIngestCommand implements Callable<Integer> {
  private static final Duration LIMIT = Duration.ofMinutes(5);

  @Option(names = "--records", defaultValue = "50000", description = "Pairs per run (default: ${DEFAULT-VALUE}).")
  int records;

  @Override
  public Integer call() throws Exception {
    Path dir = Files.createTempDirectory("prefstream-bench-ingest");
    try (LocalBroker broker = LocalBroker.start(0, dir.resolve("kafka"))) {
      String bootstrap = broker.bootstrapServers();
      new TopicCreator(bootstrap, Map.of(), TopicCreator.DEFAULT_TIMEOUT).create(TopicCatalog.all(), 1, (short) 1);
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
        admin.createTopics(List.of(new NewTopic("bench.raw", 1, (short) 1))).all().get();
      }
      List<byte[]> values = pairs(records);

      long rawStart = System.nanoTime();
      produce(bootstrap, "bench.raw", values);
      consume(bootstrap, "bench.raw", records);
      double rawSeconds = (System.nanoTime() - rawStart) / 1e9;

      Map<String, Object> props = new HashMap<>();
      props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      props.put(StreamsConfig.APPLICATION_ID_CONFIG, "bench-ingest");
      props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("state").toString());
      props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
      props.put(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://bench-ingest");
      IngestConfig config = IngestConfig.parse(props);
      Properties streamsProps = new Properties();
      streamsProps.putAll(config.streamsProperties());
      double ingestSeconds;
      try (KafkaStreams streams = new KafkaStreams(IngestTopology.build(config, new IngestMetrics(new SimpleMeterRegistry())), streamsProps)) {
        streams.start();
        awaitRunning(streams); // start-up (rebalance, state restore) is not throughput
        long ingestStart = System.nanoTime();
        produce(bootstrap, TopicCatalog.FEEDBACK_PAIRS, values);
        consume(bootstrap, TopicCatalog.PREFERENCE_PAIRS, records);
        ingestSeconds = (System.nanoTime() - ingestStart) / 1e9;
      }
      double ingestRate = records / ingestSeconds;
      double rawRate = records / rawSeconds;
      System.out.printf(Locale.ROOT, "RESULT ingest_pairs_per_s=%.0f raw_pairs_per_s=%.0f ratio=%.3f records=%d%n",
          ingestRate, rawRate, ingestRate / rawRate, records);
    } finally {
      Folders.deleteTree(dir);
    }
    return 0;
  }

  private static void awaitRunning(KafkaStreams streams) throws InterruptedException {
    long deadline = System.nanoTime() + LIMIT.toNanos();
    while (streams.state() != KafkaStreams.State.RUNNING) {
      if (System.nanoTime() > deadline || streams.state() == KafkaStreams.State.ERROR) {
        throw new IllegalStateException("the ingest topology did not start: " + streams.state());
      }
      Thread.sleep(50); // polling a state the benchmark waits on before timing anything
    }
  }

  private static List<byte[]> pairs(int n) {
    AvroSerializer<PreferencePair> serializer = new AvroSerializer<>();
    serializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://bench-ingest"), false);
    long now = System.currentTimeMillis();
    List<byte[]> values = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      values.add(serializer.serialize(TopicCatalog.FEEDBACK_PAIRS, PreferencePair.newBuilder().setEventId("bench-" + i)
          .setPromptId("prompt-" + (i % 1000)).setPrompt("Write a haiku about Kafka, number " + i)
          .setChosen("Logs flow like rivers / partitions hold the seasons / offsets never lie")
          .setRejected("Kafka is a system.").setEventTime(now).build()));
    }
    return values;
  }

  private static void produce(String bootstrap, String topic, List<byte[]> values) {
    Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.LINGER_MS_CONFIG, 5);
    try (var producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < values.size(); i++) {
        producer.send(new ProducerRecord<>(topic, ("prompt-" + (i % 1000)).getBytes(StandardCharsets.UTF_8), values.get(i)));
      }
    }
  }

  private static void consume(String bootstrap, String topic, int expected) {
    Map<String, Object> props = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ConsumerConfig.GROUP_ID_CONFIG, "bench-" + topic,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest", ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    long deadline = System.nanoTime() + LIMIT.toNanos();
    int seen = 0;
    try (var consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      while (seen < expected) {
        if (System.nanoTime() > deadline) throw new IllegalStateException("only " + seen + " of " + expected + " records reached " + topic + " within " + LIMIT);
        seen += consumer.poll(Duration.ofMillis(100)).count();
      }
    }
  }
}
