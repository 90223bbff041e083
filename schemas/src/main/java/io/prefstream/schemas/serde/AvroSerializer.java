package io.prefstream.schemas.serde;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes records in Confluent's wire format under the subject {@code <topic>-value} (or
 * {@code -key}, or as the configured subject name strategy says); byte for byte what Confluent's
 * {@code KafkaAvroSerializer} writes, configured by the same keys (see {@link SerdeConfig}).
 */
public final class AvroSerializer<T extends SpecificRecord> implements Serializer<T> {
  private SerdeConfig config = SerdeConfig.defaults();
  private SchemaRegistry registry;
  private boolean isKey;
  /**
   * A writer per schema: building one looks up the record's class, which cost more than writing a
   * small record. Writers are thread-safe; Kafka Streams may share a serializer between its threads.
   */
  private final Map<Schema, SpecificDatumWriter<T>> writers = new ConcurrentHashMap<>();

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    this.config = SerdeConfig.parse(configs);
    this.registry = null;
    this.isKey = isKey;
  }

  @Override
  public byte[] serialize(String topic, T record) {
    if (record == null) return null;
    Schema schema = record.getSchema();
    String subject = (isKey ? config.keySubjectStrategy() : config.valueSubjectStrategy()).subject(topic, isKey, schema);
    int id = schemaId(subject, schema);
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
      writers.computeIfAbsent(schema, SpecificDatumWriter::new).write(record, encoder);
      encoder.flush();
      return WireFormat.frame(id, out.toByteArray());
    } catch (IOException | RuntimeException e) {
      throw new SerializationException("cannot write " + schema.getName() + " for topic " + topic + ": " + e.getMessage(), e);
    }
  }

  private int schemaId(String subject, Schema schema) {
    if (registry == null) registry = SchemaRegistry.of(config);
    if (config.useLatestVersion()) return registry.latest(subject).id();
    if (config.autoRegisterSchemas()) return registry.register(subject, schema);
    // neither registering nor latest: the schema must already be registered, as in Confluent's serde
    SchemaRegistry.Registered latest = registry.latest(subject);
    if (!latest.schema().equals(schema)) {
      throw new SerializationException("schema of " + schema.getName() + " is not registered under " + subject
          + " and auto.register.schemas=false");
    }
    return latest.id();
  }
}
