package io.prefstream.app;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads every partition of a benchmark's output topic from its start, {@code read_committed} (what a
 * downstream consumer sees), counting the records and noting when each latency probe (a record
 * keyed {@code probe-<i>}) arrives.
 */
final class OutputWatch implements AutoCloseable {
  static final String PROBE_KEY_PREFIX = "probe-";

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final String topic;
  private final long[] probeArrivalNanos;
  private long seen;

  OutputWatch(String bootstrap, String topic, int probes) {
    this.topic = topic;
    this.probeArrivalNanos = new long[probes];
    consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
        new ByteArrayDeserializer(), new ByteArrayDeserializer());
    List<TopicPartition> partitions = consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
  }

  /** Reads until {@code target} records have arrived; returns {@link System#nanoTime()} then. */
  long awaitCount(long target, Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (seen < target) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("only " + seen + " of " + target + " records reached " + topic + " within " + limit);
      var records = consumer.poll(Duration.ofMillis(20));
      long arrived = System.nanoTime();
      for (ConsumerRecord<byte[], byte[]> r : records) {
        seen++;
        String key = r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8);
        if (key.startsWith(PROBE_KEY_PREFIX)) probeArrivalNanos[Integer.parseInt(key.substring(PROBE_KEY_PREFIX.length()))] = arrived;
      }
    }
    return System.nanoTime();
  }

  /** When each probe arrived ({@link System#nanoTime()}; 0: not yet). */
  long[] probeArrivalNanos() {
    return Arrays.copyOf(probeArrivalNanos, probeArrivalNanos.length);
  }

  @Override
  public void close() {
    consumer.close();
  }
}
