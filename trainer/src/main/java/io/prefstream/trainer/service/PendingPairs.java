package io.prefstream.trainer.service;

import io.prefstream.trainer.dpo.PreferenceExample;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * Pairs read but not yet used, in the order read, and what the next checkpoint covers. Batches are
 * taken from the front, so the offsets used of each partition are always a prefix of those read:
 * committing them never skips a pending pair. Held-out pairs go to the evaluation on their way.
 */
final class PendingPairs {
  private record Pending(TopicPartition partition, long offset, PreferenceExample example, boolean heldOut, long eventTime) {}

  private final Deque<Pending> pending = new ArrayDeque<>();
  /** Per partition, the offset after the last pair read: what the consumer should deliver next. */
  private final Map<TopicPartition, Long> nextInHand = new HashMap<>();
  private final CoveredOffsets covered = new CoveredOffsets();
  private final HeldOutSplit split;
  private final HeldOutEvaluation evaluation;
  private long trainable;
  private long newestEventTime = -1;

  PendingPairs(HeldOutSplit split, HeldOutEvaluation evaluation) {
    this.split = split;
    this.evaluation = evaluation;
  }

  /**
   * Whether the record at this offset is new. A rebalance that lost the partitions (e.g. the broker
   * restarted) puts the position back at the last commit: the pairs since are pending or used
   * already, and the next checkpoint covers them.
   */
  boolean isNew(TopicPartition partition, long offset) {
    return offset >= nextInHand.getOrDefault(partition, 0L);
  }

  void add(TopicPartition partition, long offset, PreferenceExample example, long eventTime) {
    nextInHand.put(partition, offset + 1);
    boolean heldOut = split.isHeldOut(example.id());
    pending.add(new Pending(partition, offset, example, heldOut, eventTime));
    if (!heldOut) trainable++;
  }

  boolean hasBatch(int pairs) {
    return trainable >= pairs;
  }

  /** The next batch of {@code pairs} examples; the held-out ones on the way go to the evaluation. */
  List<PreferenceExample> takeBatch(int pairs) {
    List<PreferenceExample> batch = new ArrayList<>();
    while (batch.size() < pairs) {
      Pending p = pending.poll();
      covered.consumed(p.partition(), p.offset());
      newestEventTime = Math.max(newestEventTime, p.eventTime());
      if (p.heldOut()) {
        evaluation.add(p.example());
      } else {
        batch.add(p.example());
        trainable--;
      }
    }
    return batch;
  }

  /** What the next checkpoint covers: the input offsets used since the last one. */
  CoveredOffsets covered() {
    return covered;
  }

  /** Event time of the newest pair used, -1 before the first. */
  long newestEventTime() {
    return newestEventTime;
  }
}
