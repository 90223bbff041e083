package io.prefstream.testkit;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Counts the records consumers hand to the code under test, per topic: how much of a topic a
 * reader really read. Install with {@link #props()} in any consumer's properties.
 */
public final class RecordCounter implements ConsumerInterceptor<Object, Object> {
  private static final Map<String, AtomicLong> COUNTS = new ConcurrentHashMap<>();

  /** The consumer property that installs the counter. */
  public static Map<String, Object> props() {
    return Map.of("interceptor.classes", RecordCounter.class.getName());
  }

  /** Records handed over from this topic so far, by every counting consumer. */
  public static long count(String topic) {
    return COUNTS.getOrDefault(topic, new AtomicLong()).get();
  }

  @Override
  public ConsumerRecords<Object, Object> onConsume(ConsumerRecords<Object, Object> records) {
    records.forEach(r -> COUNTS.computeIfAbsent(r.topic(), t -> new AtomicLong()).incrementAndGet());
    return records;
  }

  @Override
  public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {}

  @Override
  public void close() {}

  @Override
  public void configure(Map<String, ?> configs) {}
}
