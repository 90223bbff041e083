package io.prefstream.ingest;

import java.time.Duration;
import java.util.function.Function;
import io.prefstream.schemas.serde.RecordDeserializer;
import io.prefstream.schemas.serde.SchemaRegistryException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * Admits one kind of feedback: refuses records over the size limit unread, reads the bytes (Avro or
 * JSON, within the decode limits), applies the rules, drops repeats of an event id seen within the
 * de-duplication horizon ({@link EventIdDedup}), and passes valid records on keyed by prompt id to the kind's accepted node. Bad input becomes a dead
 * letter with its original bytes; the application never stops on it.
 *
 * <p>The timestamp passed on is the event time, but never later than the ingest clock: an event
 * dated in the allowed future would otherwise advance stream time, and with it close the rating
 * windows of every other prompt in the partition. A schema registry that cannot or will not answer
 * for now, or a registry client that cannot be set up, is not the record's fault: that error
 * propagates and stops the service (exactly-once replays the record after a restart) rather than
 * dead-lettering valid input.
 */
final class Admission<T extends SpecificRecord> implements Processor<byte[], byte[], String, Admitted> {
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
  private final EventIdDedup dedup;
  private final IngestMetrics metrics;
  private final IdleCommit idleCommit;
  private ProcessorContext<String, Admitted> context;

  Admission(Kind<T> kind, int maxRecordBytes, Duration dedupHorizon, IdleCommit idleCommit, IngestMetrics metrics) {
    this.kind = kind;
    this.idleCommit = idleCommit;
    this.maxRecordBytes = maxRecordBytes;
    this.dedup = new EventIdDedup(dedupHorizon);
    this.metrics = metrics;
  }

  @Override
  public void init(ProcessorContext<String, Admitted> context) {
    this.context = context;
    dedup.open(context.getStateStore(kind.dedupStore()), context.taskId() + " " + kind.dedupStore());
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
    } catch (ConfigException e) { // the registry client's settings (an unreadable truststore, say): every record would fail alike
      throw e;
    } catch (RuntimeException e) { // SerializationException, or whatever else odd bytes make a reader throw
      reject(in, new Rejection(Reason.UNDESERIALIZABLE, String.valueOf(e.getMessage())));
      return;
    }
    if (size + read.bytesAdded() > maxRecordBytes) {
      reject(in, new Rejection(Reason.TOO_LARGE, "with U+FFFD for its broken UTF-8 the record would have " + (size + read.bytesAdded())
          + " bytes (key and value); the limit is " + maxRecordBytes + " (" + IngestConfig.MAX_RECORD_BYTES + ")"));
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
    if (dedup.isRepeat(kind.eventId().apply(valid), timestamp)) {
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
