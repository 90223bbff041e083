package io.prefstream.trainer.service;

import io.prefstream.trainer.dpo.PreferenceExample;
import io.prefstream.trainer.dpo.TrainingExample;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * Records read but not yet used, in the order read, and what the next checkpoint covers. Batches
 * are taken from the front, so the offsets used of each partition are always a prefix of those
 * read: committing them never skips a pending pair. On the way, held-out pairs go to the
 * evaluation, and unfit records to the dead letters the checkpoint's transaction writes.
 */
final class PendingPairs {
  private sealed interface Pending permits Usable, Unfit {
    TopicPartition partition();

    long offset();
  }

  private record Usable(TopicPartition partition, long offset, TrainingExample example, boolean heldOut, long eventTime) implements Pending {}

  private record Unfit(UnfitRecord record) implements Pending {
    @Override
    public TopicPartition partition() {
      return new TopicPartition(record.sourceTopic(), record.sourcePartition());
    }

    @Override
    public long offset() {
      return record.sourceOffset();
    }
  }

  private final Deque<Pending> pending = new ArrayDeque<>();
  /** Per partition, the offset after the last record read: what the consumer should deliver next. */
  private final Map<TopicPartition, Long> nextInHand = new HashMap<>();
  private final CoveredOffsets covered = new CoveredOffsets();
  private final List<UnfitRecord> deadLetters = new ArrayList<>();
  private final HeldOutSplit split;
  private final HeldOutEvaluation evaluation;
  private long trainable;
  private long deadLetterBytes;
  private long newestEventTime = -1;

  PendingPairs(HeldOutSplit split, HeldOutEvaluation evaluation) {
    this.split = split;
    this.evaluation = evaluation;
  }

  /**
   * Whether the record at this offset is new. A rebalance that lost the partitions (e.g. the broker
   * restarted) puts the position back at the last commit: the records since are pending or used
   * already, and the next checkpoint covers them.
   */
  boolean isNew(TopicPartition partition, long offset) {
    return offset >= nextInHand.getOrDefault(partition, 0L);
  }

  /** Pairs and rankings may be held out; labelled responses are all trained on (the evaluation ranks responses). */
  void add(TopicPartition partition, long offset, TrainingExample example, long eventTime) {
    boolean heldOut = example instanceof PreferenceExample && split.isHeldOut(example.id());
    read(new Usable(partition, offset, example, heldOut, eventTime));
    if (!heldOut) trainable++;
  }

  void addUnfit(UnfitRecord record) {
    read(new Unfit(record));
  }

  private void read(Pending p) {
    nextInHand.put(p.partition(), p.offset() + 1);
    pending.add(p);
  }

  /** How many examples wait to be trained on. */
  long trainable() {
    return trainable;
  }

  boolean hasBatch(int pairs) {
    return trainable >= pairs;
  }

  /** The next batch of {@code pairs} examples; the held-out and unfit records on the way are used as well. */
  List<TrainingExample> takeBatch(int pairs) {
    List<TrainingExample> batch = new ArrayList<>();
    while (batch.size() < pairs) {
      Pending p = pending.poll();
      covered.consumed(p.partition(), p.offset());
      if (p instanceof Unfit u) {
        deadLettered(u.record());
        continue;
      }
      Usable e = (Usable) p;
      newestEventTime = Math.max(newestEventTime, e.eventTime());
      if (e.heldOut()) {
        evaluation.add((PreferenceExample) e.example());
      } else {
        batch.add(e.example());
        trainable--;
      }
    }
    passUnfitAtFront();
    return batch;
  }

  /** Unfit records with nothing pending before them are covered at once: they need no batch. */
  void passUnfitAtFront() {
    while (pending.peek() instanceof Unfit u) {
      pending.poll();
      covered.consumed(u.partition(), u.offset());
      deadLettered(u.record());
    }
  }

  private void deadLettered(UnfitRecord record) {
    deadLetters.add(record);
    deadLetterBytes += (record.key() == null ? 0 : record.key().length) + (record.value() == null ? 0 : record.value().length);
  }

  /** Bytes of the dead letters held for the next checkpoint: a flood of unfit records calls for one early. */
  long deadLetterBytes() {
    return deadLetterBytes;
  }

  /** What the next checkpoint covers: the input offsets used since the last one. */
  CoveredOffsets covered() {
    return covered;
  }

  /** The unfit records among those covered, which the checkpoint's transaction dead-letters. */
  List<UnfitRecord> deadLetters() {
    return List.copyOf(deadLetters);
  }

  /** The covered offsets and dead letters are in a published checkpoint now. */
  void checkpointed() {
    covered.clear();
    deadLetters.clear();
    deadLetterBytes = 0;
  }

  /** Event time of the newest pair used, -1 before the first. */
  long newestEventTime() {
    return newestEventTime;
  }
}
