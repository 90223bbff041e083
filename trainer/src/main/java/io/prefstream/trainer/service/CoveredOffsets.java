package io.prefstream.trainer.service;

import io.prefstream.schemas.OffsetRange;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/** The input offsets consumed since the last checkpoint, per partition: first and next to read. */
final class CoveredOffsets {
  private final Map<TopicPartition, long[]> ranges = new HashMap<>();

  void consumed(TopicPartition tp, long offset) {
    ranges.merge(tp, new long[] {offset, offset + 1}, (r, n) -> new long[] {Math.min(r[0], n[0]), Math.max(r[1], n[1])});
  }

  boolean isEmpty() {
    return ranges.isEmpty();
  }

  List<OffsetRange> asRanges() {
    return ranges.entrySet().stream()
        .sorted(Comparator.comparing((Map.Entry<TopicPartition, long[]> e) -> e.getKey().topic()).thenComparingInt(e -> e.getKey().partition()))
        .map(e -> new OffsetRange(e.getKey().topic(), e.getKey().partition(), e.getValue()[0], e.getValue()[1]))
        .toList();
  }

  /** What to commit with the checkpoint: the next offset of each partition. */
  Map<TopicPartition, OffsetAndMetadata> toCommit() {
    Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
    ranges.forEach((tp, r) -> out.put(tp, new OffsetAndMetadata(r[1])));
    return out;
  }

  void clear() {
    ranges.clear();
  }
}
