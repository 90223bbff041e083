package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointManifest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reading the model topic's partitions: every partition assigned, polls that step over records
 * that cannot be decoded (logged with partition and offset), and where to start so as to see the
 * newest wanted version without reading the versions before it, or the newest wanted manifest.
 */
final class ModelTopicPartitions {
  static final Duration LIMIT = Duration.ofMinutes(2);
  static final Duration POLL = Duration.ofMillis(200);
  /**
   * Offsets read in the first window back from the end: a version's manifest is usually the last
   * record, followed by its transaction's commit marker. Each further window is twice as long.
   */
  static final int FIRST_WINDOW = 2;
  private static final Logger log = LoggerFactory.getLogger(ModelTopicPartitions.class);

  private ModelTopicPartitions() {}

  /** Assigns every partition of the topic to the (unsubscribed) consumer. */
  static List<TopicPartition> assignAll(Consumer<String, SpecificRecord> consumer, String topic) {
    List<PartitionInfo> partitions = consumer.partitionsFor(topic, LIMIT);
    if (partitions == null || partitions.isEmpty()) throw new IllegalStateException("topic " + topic + " does not exist");
    List<TopicPartition> tps = partitions.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    consumer.assign(tps);
    return tps;
  }

  /** One poll; a record that does not decode is logged and stepped over, never thrown. */
  static ConsumerRecords<String, SpecificRecord> poll(Consumer<String, SpecificRecord> consumer) {
    try {
      return consumer.poll(POLL);
    } catch (RecordDeserializationException e) {
      log.warn("skipped undecodable record at {}@{}: {}", e.topicPartition(), e.offset(), e.getCause() == null ? e.getMessage() : e.getCause().getMessage());
      consumer.seek(e.topicPartition(), e.offset() + 1);
      return ConsumerRecords.empty();
    }
  }

  /** Whether the consumer has read every partition up to the given offsets. */
  static boolean reached(Consumer<String, SpecificRecord> consumer, Map<TopicPartition, Long> end) {
    return end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
  }

  /**
   * The offset to read the partition from so as to see the last manifest {@code wanted} takes with
   * all its chunks: that manifest's first chunk, found by {@link #newest}; the partition's
   * beginning when there is none (or it names no first chunk). Leaves the consumer's position
   * anywhere: the caller seeks.
   */
  static long startOfNewest(Consumer<String, SpecificRecord> consumer, TopicPartition tp, Predicate<CheckpointManifest> wanted) {
    long begin = beginning(consumer, tp);
    return newest(consumer, tp, wanted, begin).map(found -> {
      Long first = found.manifest().getFirstChunkOffset();
      return first != null && first >= begin && first <= found.offset() ? first : begin;
    }).orElse(begin);
  }

  /**
   * The last manifest on the partition that {@code wanted} takes, found by reading backwards from
   * the end in windows that double, so it costs a few records when that manifest is recent.
   * Leaves the consumer's position anywhere: the caller seeks.
   */
  static Optional<ManifestAt> newest(Consumer<String, SpecificRecord> consumer, TopicPartition tp, Predicate<CheckpointManifest> wanted) {
    return newest(consumer, tp, wanted, beginning(consumer, tp));
  }

  private static long beginning(Consumer<String, SpecificRecord> consumer, TopicPartition tp) {
    return consumer.beginningOffsets(List.of(tp), LIMIT).get(tp);
  }

  private static Optional<ManifestAt> newest(Consumer<String, SpecificRecord> consumer, TopicPartition tp, Predicate<CheckpointManifest> wanted, long begin) {
    long end = consumer.endOffsets(List.of(tp), LIMIT).get(tp);
    long deadline = System.nanoTime() + LIMIT.toNanos();
    List<TopicPartition> others = consumer.assignment().stream().filter(p -> !p.equals(tp)).toList();
    consumer.pause(others);
    try {
      return readBack(consumer, tp, wanted, begin, end, deadline);
    } finally {
      consumer.resume(others);
    }
  }

  private static Optional<ManifestAt> readBack(Consumer<String, SpecificRecord> consumer, TopicPartition tp, Predicate<CheckpointManifest> wanted, long begin, long end, long deadline) {
    long window = FIRST_WINDOW;
    for (long hi = end; hi > begin; window *= 2) {
      long lo = Math.max(begin, hi - window);
      consumer.seek(tp, lo);
      ManifestAt found = null;
      while (consumer.position(tp) < hi) {
        if (System.nanoTime() > deadline) throw new IllegalStateException("could not read " + tp + " back from its end within " + LIMIT);
        for (ConsumerRecord<String, SpecificRecord> r : poll(consumer).records(tp)) {
          if (r.offset() < hi && r.value() instanceof CheckpointManifest m && wanted.test(m)) found = new ManifestAt(m, tp, r.offset());
        }
      }
      if (found != null) return Optional.of(found);
      hi = lo;
    }
    return Optional.empty();
  }
}
