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
  /**
   * Registered ids by topic and schema, when auto-registering: naming the subject and asking the
   * registry (even its cache) per record cost a tenth of writing one.
   */
  private final Map<Target, Integer> ids = new ConcurrentHashMap<>();
  /** Each thread's output buffer and encoder, reused: a fresh encoder allocates 2 KiB per record. */
  private final ThreadLocal<Output> outputs = new ThreadLocal<>();

  private record Target(String topic, Schema schema) {}

  /** A growable buffer and the Avro encoder writing into it, for one thread at a time. */
  private static final class Output extends ByteArrayOutputStream {
    /** A buffer grown past this by a large record is not kept. */
    static final int KEPT_BYTES = 1 << 20;
    final BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(this, null);

    boolean worthKeeping() {
      return buf.length <= KEPT_BYTES;
    }
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    this.config = SerdeConfig.parse(configs);
    this.registry = null;
    this.isKey = isKey;
    ids.clear();
  }

  @Override
  public byte[] serialize(String topic, T record) {
    if (record == null) return null;
    Schema schema = record.getSchema();
    int id = idFor(topic, schema);
    Output out = outputs.get();
    if (out == null) {
      out = new Output();
      outputs.set(out);
    }
    boolean written = false;
    try {
      out.reset();
      WireFormat.writeHeader(out, id);
      writers.computeIfAbsent(schema, SpecificDatumWriter::new).write(record, out.encoder);
      out.encoder.flush();
      byte[] bytes = out.toByteArray();
      written = true;
      return bytes;
    } catch (IOException | RuntimeException e) {
      throw new SerializationException("cannot write " + schema.getName() + " for topic " + topic + ": " + e.getMessage(), e);
    } finally {
      // a write that failed midway (an Error too) may have left bytes in the encoder's buffer
      if (!written || !out.worthKeeping()) outputs.remove();
    }
  }

  /**
   * What {@link #serialize} writes for a record that is already encoded in its own {@code schema} as
   * Confluent-wire bytes (a value read with {@link RecordDeserializer.Read#asWritten()} and not
   * changed since): those bytes under the schema id this serializer writes for the topic, without
   * encoding the record again. The Avro part is passed on as it came; it decodes to the same record
   * as a fresh encoding would, though not always byte for byte (Avro allows a writer to split a map
   * into blocks, say).
   */
  public byte[] serializeEncoded(String topic, Schema schema, byte[] framed) {
    int id = idFor(topic, schema);
    return WireFormat.schemaId(framed) == id ? framed : WireFormat.withSchemaId(framed, id);
  }

  private int idFor(String topic, Schema schema) {
    if (config.autoRegisterSchemas() && !config.useLatestVersion()) {
      return ids.computeIfAbsent(new Target(topic, schema), t -> schemaId(subject(topic, schema), schema));
    }
    return schemaId(subject(topic, schema), schema);
  }

  private String subject(String topic, Schema schema) {
    return (isKey ? config.keySubjectStrategy() : config.valueSubjectStrategy()).subject(topic, isKey, schema);
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
