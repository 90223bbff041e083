package io.prefstream.schemas.serde;

import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/** Serdes for the generated records: Confluent-wire Avro out; Avro or JSON in. */
public final class RecordSerde {
  private RecordSerde() {}

  /** A serde for values of this type, configured with {@link SerdeConfig}'s keys. */
  public static <T extends SpecificRecord> Serde<T> of(Class<T> type, Map<String, ?> configs) {
    Serde<T> serde = Serdes.serdeFrom(new AvroSerializer<>(), new RecordDeserializer<>(type));
    serde.configure(configs, false);
    return serde;
  }

  /** A serde for values of this type on the embedded in-memory registry. */
  public static <T extends SpecificRecord> Serde<T> of(Class<T> type) {
    return of(type, Map.of());
  }
}
