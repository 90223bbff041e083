package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointChunk;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.serde.AvroSerializer;
import io.prefstream.schemas.serde.RecordDeserializer;
import io.prefstream.schemas.serde.SerdeConfig;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The model topic's value format: CheckpointChunk and CheckpointManifest records, Confluent-wire
 * Avro under TopicRecordNameStrategy subjects (two record types on one topic), keyed by model name.
 */
public final class ModelTopic {
  private ModelTopic() {}

  /** Records handed over per poll: with 1 MiB chunks (or larger ones) the heap holds a few chunks, never a checkpoint. */
  static final int MAX_POLL_RECORDS = 8;

  /**
   * Consumer properties for reading the model topic: {@code base} (client and serde settings) plus
   * read_committed (an aborted publish is never seen), no auto commit, and fetches sized for
   * chunks with few records per poll, unless {@code base} says otherwise.
   */
  public static Map<String, Object> consumerProps(Map<String, ?> base) {
    Map<String, Object> p = new HashMap<>(base);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.putIfAbsent(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 << 20);
    p.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, MAX_POLL_RECORDS);
    return p;
  }

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
