package io.prefstream.ingest;

import java.time.Duration;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

/**
 * Admits one kind of feedback: reads the bytes (Avro or JSON), applies the rules, drops repeats of
 * an event id seen within the de-duplication horizon, and passes valid records on keyed by prompt
 * id with their event time as timestamp. Bad input becomes a dead letter with its original bytes;
 * the application never stops on it.
 */
final class Admission<T extends SpecificRecord> implements Processor<byte[], byte[], String, Admitted> {

  /** The rule check of one kind: (record, record timestamp, now) -> checked record. */
  interface Check<T> {
    FeedbackRules.Checked<T> apply(T record, long recordTimestamp, long now);
  }

  /** What differs between the kinds of feedback. */
  record Kind<T>(String name, Deserializer<T> deserializer, Check<T> check, Function<T, String> eventId,
      Function<T, String> promptId, Function<T, Long> eventTime, String dedupStore, java.util.function.BiFunction<T, RecordMetadata, T> stamp) {}

  private final Kind<T> kind;
  private final Duration dedupHorizon;
  private final IngestMetrics metrics;
  private ProcessorContext<String, Admitted> context;
  private WindowStore<String, Long> seen;

  Admission(Kind<T> kind, Duration dedupHorizon, IngestMetrics metrics) {
    this.kind = kind;
    this.dedupHorizon = dedupHorizon;
    this.metrics = metrics;
  }

  @Override
  public void init(ProcessorContext<String, Admitted> context) {
    this.context = context;
    this.seen = context.getStateStore(kind.dedupStore());
  }

  @Override
  public void process(Record<byte[], byte[]> in) {
    T record;
    try {
      record = kind.deserializer().deserialize(topic(), in.headers(), in.value());
      if (record == null) throw new SerializationException("topic " + topic() + ": the value is empty (a tombstone)");
    } catch (SerializationException e) {
      reject(in, new Rejection(Reason.UNDESERIALIZABLE, e.getMessage()));
      return;
    }
    FeedbackRules.Checked<T> checked = kind.check().apply(record, in.timestamp(), context.currentSystemTimeMs());
    if (!checked.passed()) {
      reject(in, checked.rejection());
      return;
    }
    T valid = kind.stamp().apply(checked.record(), context.recordMetadata().orElseThrow());
    long eventTime = kind.eventTime().apply(valid);
    if (isRepeat(kind.eventId().apply(valid), eventTime)) {
      metrics.duplicate(kind.name());
      return;
    }
    metrics.accepted(kind.name());
    context.forward(new Record<String, Admitted>(kind.promptId().apply(valid), new Admitted.Accepted(valid), eventTime));
  }

  private boolean isRepeat(String eventId, long eventTime) {
    long horizon = dedupHorizon.toMillis();
    try (WindowStoreIterator<Long> earlier = seen.fetch(eventId, eventTime - horizon, eventTime + horizon)) {
      if (earlier.hasNext()) return true;
    }
    seen.put(eventId, eventTime, eventTime);
    return false;
  }

  private void reject(Record<byte[], byte[]> in, Rejection rejection) {
    metrics.rejected(kind.name(), rejection.reason());
    RecordMetadata source = context.recordMetadata().orElseThrow();
    DeadLetter letter = new DeadLetter(in.key(), in.value(), rejection, source.topic(), source.partition(), source.offset());
    context.forward(new Record<String, Admitted>(null, new Admitted.Rejected(letter), in.timestamp()));
  }

  private String topic() {
    return context.recordMetadata().map(RecordMetadata::topic).orElse("?");
  }
}
