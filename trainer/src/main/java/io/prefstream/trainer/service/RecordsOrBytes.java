package io.prefstream.trainer.service;

import java.nio.charset.StandardCharsets;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The trainer producer's serializer. One transactional producer writes checkpoints and metrics
 * (Avro records, keyed by model name) and dead letters (the original bytes, as they came), so
 * that both go out in the transaction that commits their input offsets: bytes pass through, a
 * record goes to the Avro serializer.
 */
final class RecordsOrBytes implements Serializer<Object> {
  private final Serializer<SpecificRecord> records;

  RecordsOrBytes(Serializer<SpecificRecord> records) {
    this.records = records;
  }

  /** The keys: a model name as UTF-8, a dead letter's original bytes as they came. */
  static Serializer<Object> keys() {
    return (topic, key) -> key == null || key instanceof byte[] ? (byte[]) key : ((String) key).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public byte[] serialize(String topic, Object data) {
    return serialize(topic, null, data);
  }

  @Override
  public byte[] serialize(String topic, Headers headers, Object data) {
    if (data == null || data instanceof byte[]) return (byte[]) data;
    if (data instanceof SpecificRecord r) return records.serialize(topic, headers, r);
    throw new IllegalArgumentException("the trainer does not write " + data.getClass().getName());
  }

  @Override
  public void close() {
    records.close();
  }
}
