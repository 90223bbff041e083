package io.prefstream.ingest;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/** JSON for ingest's own state (window aggregates), which no other service reads. */
final class JsonSerde {
  private static final ObjectMapper JSON = new ObjectMapper()
      .setVisibility(PropertyAccessor.FIELD, JsonAutoDetect.Visibility.ANY)
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private JsonSerde() {}

  static <T> Serde<T> of(Class<T> type) {
    return Serdes.serdeFrom(
        (topic, value) -> value == null ? null : write(value, type.getSimpleName() + " state for " + topic),
        (topic, bytes) -> {
          try {
            return bytes == null ? null : JSON.readValue(bytes, type);
          } catch (IOException e) {
            throw new SerializationException("cannot read " + type.getSimpleName() + " state from " + topic, e);
          }
        });
  }

  /** The size of a value's JSON as the serde writes it. */
  static int size(Object value) {
    return write(value, value.getClass().getSimpleName()).length;
  }

  private static byte[] write(Object value, String what) {
    try {
      return JSON.writeValueAsBytes(value);
    } catch (IOException e) {
      throw new SerializationException("cannot write " + what, e);
    }
  }
}
