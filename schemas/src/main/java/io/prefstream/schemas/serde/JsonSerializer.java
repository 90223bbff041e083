package io.prefstream.schemas.serde;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serializer;

/** Writes records as plain JSON objects with the .avsc field names, as producers without Avro do. */
public final class JsonSerializer<T extends SpecificRecord> implements Serializer<T> {
  @Override
  public byte[] serialize(String topic, T record) {
    return record == null ? null : JsonRecords.write(record);
  }
}
