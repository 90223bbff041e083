package io.prefstream.ingest;

import java.time.Duration;
import java.util.function.Function;
import io.prefstream.schemas.serde.RecordDeserializer;
import io.prefstream.schemas.serde.SchemaRegistryException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.WindowStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admits one kind of feedback: refuses records over the size limit unread, reads the bytes (Avro or
 * JSON, within the decode limits), applies the rules, drops repeats of an event id seen within the
 * de-duplication horizon, and passes valid records on keyed by prompt id to the kind's accepted node. Bad input becomes a dead
 * letter with its original bytes; the application never stops on it.
 *
 * <p>The timestamp passed on is the event time, but never later than the ingest clock: an event
 * dated in the allowed future would otherwise advance stream time, and with it close the rating
 * windows of every other prompt in the partition. A schema registry that cannot answer is not the
 * record's fault: that error propagates and stops the service (exactly-once replays the record
 * after a restart) rather than dead-lettering valid input.
 */
final class Admission<T extends SpecificRecord> implements Processor<byte[], byte[], String, Admitted> {
  private static final Logger log = LoggerFactory.getLogger(Admission.class);

  /** The rule check of one kind: (record, record timestamp, now) -> checked record. */
  interface Check<T> {
    FeedbackRules.Checked<T> apply(T record, long recordTimestamp, long now);
  }

  /**
   * What differs between the kinds of feedback. Admission forwards each record straight to the node
   * that takes it, {@link #acceptedNode} or {@link #deadLetterNode}, rather than through a branch
   * node and an unwrapping node: every node a record passes costs Kafka Streams' per-node work.
   */
  record Kind<T extends SpecificRecord>(String name, RecordDeserializer<T> deserializer, Check<T> check, Function<T, String> eventId,
      Function<T, String> promptId, Function<T, Long> eventTime, String dedupStore, java.util.function.BiFunction<T, RecordMetadata, T> stamp) {
    /** The name of the node after admission that takes the accepted records. */
    String acceptedNode() {
      return "accepted-" + name;
    }

    /** The name of the node after admission that turns dead letters into DLQ records. */
    String deadLetterNode() {
      return "dead-letter-" + name;
    }
  }

  private final Kind<T> kind;
  private final int maxRecordBytes;
  private final Duration dedupHorizon;
  private final IngestMetrics metrics;
  private final IdleCommit idleCommit;
  private ProcessorContext<String, Admitted> context;
  private WindowStore<String, Long> seen;
  private final SeenIds seenIds;

  Admission(Kind<T> kind, int maxRecordBytes, Duration dedupHorizon, IdleCommit idleCommit, IngestMetrics metrics) {
    this.kind = kind;
    this.idleCommit = idleCommit;
    this.maxRecordBytes = maxRecordBytes;
    this.dedupHorizon = dedupHorizon;
    this.metrics = metrics;
    this.seenIds = new SeenIds(dedupHorizon.multipliedBy(IngestTopology.DEDUP_BUCKETS_KEPT).toMillis());
  }

  @Override
  public void init(ProcessorContext<String, Admitted> context) {
    this.context = context;
    this.seen = context.getStateStore(kind.dedupStore());
    loadSeenIds();
    idleCommit.start(context);
  }

  @Override
  public void process(Record<byte[], byte[]> in) {
    idleCommit.processed();
    long size = length(in.key()) + length(in.value());
    if (size > maxRecordBytes) {
      reject(in, new Rejection(Reason.TOO_LARGE, "the record has " + size + " bytes (key and value); the limit is " + maxRecordBytes
          + " (" + IngestConfig.MAX_RECORD_BYTES + ")"));
      return;
    }
    RecordDeserializer.Read<T> read;
    try {
      if (in.value() == null) throw new SerializationException("topic " + topic() + ": the value is empty (a tombstone)");
      read = kind.deserializer().read(topic(), in.value());
    } catch (SchemaRegistryException e) {
      if (e.unavailable()) throw e;
      reject(in, new Rejection(Reason.UNDESERIALIZABLE, e.getMessage()));
      return;
    } catch (RuntimeException e) { // SerializationException, or whatever else odd bytes make a reader throw
      reject(in, new Rejection(Reason.UNDESERIALIZABLE, String.valueOf(e.getMessage())));
      return;
    }
    long now = context.currentSystemTimeMs();
    FeedbackRules.Checked<T> checked = kind.check().apply(read.record(), in.timestamp(), now);
    if (!checked.passed()) {
      reject(in, checked.rejection());
      return;
    }
    T valid = kind.stamp().apply(checked.record(), context.recordMetadata().orElseThrow());
    long timestamp = Math.min(kind.eventTime().apply(valid), now);
    if (isRepeat(kind.eventId().apply(valid), timestamp)) {
      metrics.duplicate(kind.name());
      return;
    }
    metrics.accepted(kind.name());
    // the input's bytes still encode the record unless normalising changed it or stamping copied it
    byte[] encoded = read.asWritten() && !checked.changed() && valid == read.record() ? in.value() : null;
    context.forward(new Record<String, Admitted>(kind.promptId().apply(valid), new Admitted.Accepted(valid, encoded), timestamp), kind.acceptedNode());
  }

  private static long length(byte[] bytes) {
    return bytes == null ? 0 : bytes.length;
  }

  /**
   * Whether an event id was accepted at an event time at most the horizon away. Each accepted id is
   * kept under the horizon-long bucket of its event time, with that time as the value: the three
   * buckets around this event time cover every time within the horizon, and three point look-ups
   * cost less than a range scan (one RocksDB iterator per segment) of the window store. A bucket is
   * read only if {@link SeenIds} says it may hold the id, so a new id is mostly not read at all.
   */
  private boolean isRepeat(String eventId, long eventTime) {
    long horizon = dedupHorizon.toMillis();
    long bucket = bucketOf(eventTime, horizon);
    for (long b = Math.max(0, bucket - horizon); b <= bucket + horizon; b += horizon) {
      if (!seenIds.mayHold(b, eventId)) continue;
      Long earlier = seen.fetch(eventId, b);
      if (earlier != null && Math.abs(eventTime - earlier) <= horizon) return true;
    }
    seen.put(eventId, eventTime, bucket);
    seenIds.add(bucket, eventId);
    return false;
  }

  /** Every id the store holds (restored by now), into the filters that spare reading it for new ids. */
  private void loadSeenIds() {
    long start = System.nanoTime();
    seenIds.clear();
    long ids = 0;
    try (KeyValueIterator<Windowed<String>, Long> all = seen.all()) {
      while (all.hasNext()) {
        Windowed<String> entry = all.next().key;
        seenIds.add(entry.window().start(), entry.key());
        ids++;
      }
    }
    log.info("{}: {} event ids loaded from {} in {} ms", context.taskId(), ids, kind.dedupStore(), (System.nanoTime() - start) / 1_000_000);
  }

  static long bucketOf(long eventTime, long horizon) {
    return Math.floorDiv(eventTime, horizon) * horizon;
  }

  private void reject(Record<byte[], byte[]> in, Rejection rejection) {
    metrics.rejected(kind.name(), rejection.reason());
    RecordMetadata source = context.recordMetadata().orElseThrow();
    DeadLetter letter = new DeadLetter(in.key(), in.value(), rejection, source.topic(), source.partition(), source.offset());
    context.forward(new Record<String, Admitted>(null, new Admitted.Rejected(letter), in.timestamp()), kind.deadLetterNode());
  }

  private String topic() {
    return context.recordMetadata().map(RecordMetadata::topic).orElse("?");
  }
}
