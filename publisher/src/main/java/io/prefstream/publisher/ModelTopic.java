package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointChunk;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.serde.AvroSerializer;
import io.prefstream.schemas.serde.RecordDeserializer;
import io.prefstream.schemas.serde.SerdeConfig;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The model topic's value format: CheckpointChunk and CheckpointManifest records, Confluent-wire
 * Avro under TopicRecordNameStrategy subjects (two record types on one topic), keyed by model name.
 */
public final class ModelTopic {
  private ModelTopic() {}

  public static Serializer<SpecificRecord> serializer(Map<String, ?> serdeProps) {
    AvroSerializer<SpecificRecord> s = new AvroSerializer<>();
    s.configure(withStrategy(serdeProps), false);
    return s;
  }

  public static Deserializer<SpecificRecord> deserializer(Map<String, ?> serdeProps) {
    RecordDeserializer<SpecificRecord> d = RecordDeserializer.ofAny(CheckpointChunk.class, CheckpointManifest.class);
    d.configure(withStrategy(serdeProps), false);
    return d;
  }

  private static Map<String, Object> withStrategy(Map<String, ?> serdeProps) {
    Map<String, Object> p = new HashMap<>(serdeProps);
    p.put(SerdeConfig.VALUE_SUBJECT_NAME_STRATEGY, "TopicRecordNameStrategy");
    return p;
  }
}
