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
 *
 * <p>Memory is bounded by bytes as well as by examples: held-out and unfit records queued behind a
 * trainable example wait for a batch, so once the records held pass {@code maxBytes}, a partial
 * batch (what is trainable) is ready, and taking it passes the records behind.
 */
final class PendingPairs {
  private sealed interface Pending permits Usable, Unfit {
    TopicPartition partition();

    long offset();
  }

  private record Usable(TopicPartition partition, long offset, TrainingExample example, boolean heldOut, long eventTime, long bytes) implements Pending {}

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
  private final long maxBytes;
  private long trainable;
  private long pendingBytes;
  private long deadLetterBytes;
  private long newestEventTime = -1;

  /** @param maxBytes bytes of pending records (as read) past which a partial batch is ready */
  PendingPairs(HeldOutSplit split, HeldOutEvaluation evaluation, long maxBytes) {
    this.split = split;
    this.evaluation = evaluation;
    this.maxBytes = maxBytes;
  }

  /**
   * Whether the record at this offset is new. A rebalance that lost the partitions (e.g. the broker
   * restarted) puts the position back at the last commit: the records since are pending or used
   * already, and the next checkpoint covers them.
   */
  boolean isNew(TopicPartition partition, long offset) {
    return offset >= nextInHand.getOrDefault(partition, 0L);
  }

  /**
   * Pairs and rankings may be held out; labelled responses are all trained on (the evaluation ranks responses).
   *
   * @param bytes the record's serialized key and value
   */
  void add(TopicPartition partition, long offset, TrainingExample example, long eventTime, long bytes) {
    boolean heldOut = example instanceof PreferenceExample && split.isHeldOut(example.id());
    read(new Usable(partition, offset, example, heldOut, eventTime, bytes), bytes);
    if (!heldOut) trainable++;
  }

  void addUnfit(UnfitRecord record) {
    read(new Unfit(record), record.bytes());
  }

  private void read(Pending p, long bytes) {
    nextInHand.put(p.partition(), p.offset() + 1);
    pending.add(p);
    pendingBytes += bytes;
  }

  /** How many examples wait to be trained on. */
  long trainable() {
    return trainable;
  }

  /** Whether a batch is ready: {@code pairs} examples, or fewer once the records held pass the byte bound. */
  boolean hasBatch(int pairs) {
    return trainable >= pairs || (trainable > 0 && isFull());
  }

  /** Whether the records held pass the byte bound: reading should stop until a batch is taken. */
  boolean isFull() {
    return pendingBytes >= maxBytes;
  }

  /**
   * The next batch of {@code pairs} examples, or of all the trainable ones when fewer wait; the
   * held-out and unfit records on the way are used as well.
   */
  List<TrainingExample> takeBatch(int pairs) {
    List<TrainingExample> batch = new ArrayList<>();
    while (batch.size() < pairs && trainable > 0) {
      Pending p = pending.poll();
      if (use(p)) {
        batch.add(((Usable) p).example());
        trainable--;
      }
    }
    passUntrainableAtFront();
    return batch;
  }

  /**
   * Unfit and held-out records with nothing pending before them are used at once: they need no
   * batch (and, held back, they could fill the byte bound with no batch ever ready).
   */
  void passUntrainableAtFront() {
    while (!pending.isEmpty() && !isTrainable(pending.peek())) use(pending.poll());
  }

  private static boolean isTrainable(Pending p) {
    return p instanceof Usable u && !u.heldOut();
  }

  /** Covers a record taken from the front: unfit ones become dead letters, held-out ones go to the evaluation; true when it is to be trained on. */
  private boolean use(Pending p) {
    covered.consumed(p.partition(), p.offset());
    if (p instanceof Unfit u) {
      pendingBytes -= u.record().bytes();
      deadLettered(u.record());
      return false;
    }
    Usable e = (Usable) p;
    pendingBytes -= e.bytes();
    newestEventTime = Math.max(newestEventTime, e.eventTime());
    if (e.heldOut()) evaluation.add((PreferenceExample) e.example());
    return !e.heldOut();
  }

  private void deadLettered(UnfitRecord record) {
    deadLetters.add(record);
    deadLetterBytes += record.bytes();
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
