package io.prefstream.app;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.ingest.IngestConfig;
import io.prefstream.testkit.KafkaBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The stored ceiling of {@code bench ingest} does what it claims: copies every record as it is, and logs one store entry per record. */
class StreamsCeilingTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final int RECORDS = 50;

  @Test
  void stored_copiesEachRecordAsItIs_andWritesOneChangelogRecordPerRecord(@TempDir Path state) throws Exception {
    broker.createTopic("ceiling.in", 1);
    broker.createTopic("ceiling.out", 1);
    List<String> sent = new ArrayList<>();
    try (var producer = new KafkaProducer<byte[], byte[]>(broker.producerProps())) {
      for (int i = 0; i < RECORDS; i++) {
        sent.add("value-" + i);
        producer.send(new ProducerRecord<>("ceiling.in", ("key-" + i).getBytes(UTF_8), sent.get(i).getBytes(UTF_8)));
      }
    }
    IngestConfig config = IngestConfig.parse(Map.of(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        StreamsConfig.STATE_DIR_CONFIG, state.toString(), StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest"));

    try (TopologyPipe pipe = TopologyPipe.start(StreamsCeiling.stored("ceiling.in", "ceiling.out", config),
        StreamsCeiling.streamsProperties(config, "ceiling-test"), Duration.ofMinutes(1))) {
      assertThat(values(read("ceiling.out"))).isEqualTo(sent);
      assertThat(read("ceiling-test-" + StreamsCeiling.STORE + "-changelog")).hasSize(RECORDS);
    }
  }

  /** The first {@value #RECORDS} committed records of a topic, within a minute. */
  private static List<ConsumerRecord<byte[], byte[]>> read(String topic) {
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    try (var consumer = new KafkaConsumer<byte[], byte[]>(broker.consumerProps("reader-" + topic))) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
      while (records.size() < RECORDS && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    return records;
  }

  private static List<String> values(List<ConsumerRecord<byte[], byte[]>> records) {
    return records.stream().map(r -> new String(r.value(), UTF_8)).toList();
  }
}
