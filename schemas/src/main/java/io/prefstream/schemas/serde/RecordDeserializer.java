package io.prefstream.schemas.serde;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads one record type from either Confluent-wire Avro (magic byte 0; the writer's schema comes
 * from the registry, so older and newer producers are read into this version of the class) or
 * plain JSON (first non-blank byte {@code '{'}), detected per record.
 *
 * <p>No value makes it allocate more than {@link DecodeLimits} allow, whatever lengths its bytes
 * claim. A registry that cannot answer is a {@link SchemaRegistryException} that is
 * {@link SchemaRegistryException#unavailable() unavailable}, thrown as it is: the value is not at
 * fault. Anything else is a {@link SerializationException} naming the topic and the first bytes. A
 * deserializer does not see the partition and offset; whoever handles the exception (ingest's
 * dead-letter path, a consumer's error log) adds them.
 */
public final class RecordDeserializer<T extends SpecificRecord> implements Deserializer<T> {
  private final Class<T> type;
  private final Schema readerSchema;
  /** Reader schemas by record full name, for a topic that carries several types; empty for one type. */
  private final Map<String, Schema> readerSchemasByName;
  private SerdeConfig config = SerdeConfig.defaults();
  private SchemaRegistry registry;
  /**
   * A reader per writer schema: building one resolves the writer's schema against the reader's,
   * which costs more than reading a small record. Readers are thread-safe; Kafka Streams may share
   * a deserializer between its threads.
   */
  private final Map<Schema, Reading<T>> readers = new ConcurrentHashMap<>();

  /** How values of one writer schema are read; {@code inReaderSchema}: the writer's schema is the reader's own. */
  private record Reading<T>(SpecificDatumReader<T> reader, boolean inReaderSchema) {}

  /**
   * A value read. {@code asWritten}: it was Confluent-wire Avro in the record's own schema, its
   * strings valid UTF-8 and its blocks without byte sizes, so its bytes are an encoding of this
   * record in that schema as long as the record is not changed, and a writer may pass them on rather
   * than encode the record again. {@code bytesAdded}: how much longer its strings are in UTF-8 than
   * in the value (U+FFFD, three bytes, where the value had broken bytes), so that a writer that
   * must fit a size can tell before encoding it again.
   */
  public record Read<T>(T record, boolean asWritten, long bytesAdded) {}

  public RecordDeserializer(Class<T> type) {
    this(type, SpecificData.get().getSchema(type), Map.of());
  }

  private RecordDeserializer(Class<T> type, Schema readerSchema, Map<String, Schema> readerSchemasByName) {
    this.type = type;
    this.readerSchema = readerSchema;
    this.readerSchemasByName = readerSchemasByName;
  }

  /**
   * A deserializer for a topic that carries several record types (written with
   * TopicRecordNameStrategy): each Avro value is read into the class its writer schema names.
   * JSON is not accepted there, since JSON does not say its type.
   */
  @SafeVarargs
  public static RecordDeserializer<SpecificRecord> ofAny(Class<? extends SpecificRecord>... types) {
    Map<String, Schema> byName = new java.util.HashMap<>();
    for (Class<? extends SpecificRecord> t : types) {
      Schema schema = SpecificData.get().getSchema(t);
      byName.put(schema.getFullName(), schema);
    }
    return new RecordDeserializer<>(SpecificRecord.class, null, Map.copyOf(byName));
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    this.config = SerdeConfig.parse(configs);
    this.registry = null;
  }

  @Override
  public T deserialize(String topic, Headers headers, byte[] data) {
    return deserialize(topic, data);
  }

  @Override
  public T deserialize(String topic, byte[] data) {
    return data == null ? null : read(topic, data).record();
  }

  /** Reads a value (not null), as {@link #deserialize(String, byte[])} does, saying whether its bytes are the record's own encoding. */
  public Read<T> read(String topic, byte[] data) {
    if (WireFormat.isFramed(data)) return fromAvro(topic, data);
    if (startsLikeJson(data) && readerSchemasByName.isEmpty()) {
      try {
        return new Read<>(JsonRecords.read(data, type, readerSchema, config.limits()), false, 0);
      } catch (IllegalArgumentException e) {
        throw failure(topic, data, "JSON is not a valid " + readerSchema.getName() + ": " + e.getMessage(), e);
      }
    }
    if (startsLikeJson(data)) throw failure(topic, data, "JSON does not say which of " + readerSchemasByName.keySet() + " it is", null);
    String why = data.length > 0 && data[0] != WireFormat.MAGIC_BYTE
        ? "neither Confluent-wire Avro (magic byte 0) nor a JSON object"
        : "too short for Confluent-wire Avro (5-byte header)";
    throw failure(topic, data, why, null);
  }

  private Read<T> fromAvro(String topic, byte[] data) {
    int id = WireFormat.schemaId(data);
    Schema writerSchema;
    try {
      if (registry == null) registry = SchemaRegistry.of(config);
      writerSchema = registry.byId(id);
    } catch (SchemaRegistryException e) {
      if (e.unavailable()) { // the value may be valid: not this record's fault
        throw new SchemaRegistryException(e.status(), e.errorCode(), "topic " + topic + ": writer schema id " + id + ": " + e.getMessage(), e);
      }
      throw failure(topic, data, "writer schema id " + id + " unavailable: " + e.getMessage(), e);
    }
    Schema reader = readerSchemasByName.isEmpty() ? readerSchema : readerSchemasByName.get(writerSchema.getFullName());
    if (reader == null) {
      throw failure(topic, data, "record type " + writerSchema.getFullName() + " (schema id " + id + ") is none of " + readerSchemasByName.keySet(), null);
    }
    try {
      int length = data.length - WireFormat.HEADER_LENGTH;
      var decoder = DecoderFactory.get().binaryDecoder(data, WireFormat.HEADER_LENGTH, length, null);
      Reading<T> reading = readers.computeIfAbsent(writerSchema, w -> new Reading<>(new SpecificDatumReader<>(w, reader), w.equals(reader)));
      BoundedDecoder bounded = new BoundedDecoder(decoder, config.limits(), length);
      T record = reading.reader().read(null, bounded);
      if (!decoder.isEnd()) throw new IOException((data.length - WireFormat.HEADER_LENGTH) + " bytes hold more than one record");
      return new Read<>(record, reading.inReaderSchema() && bounded.bytesSayWhatWasRead(), bounded.bytesAdded());
    } catch (IOException | RuntimeException e) {
      throw failure(topic, data, "Avro bytes (schema id " + id + ") are not a valid " + reader.getName() + ": " + e, e);
    }
  }

  private static boolean startsLikeJson(byte[] data) {
    for (byte b : data) {
      if (!Character.isWhitespace(b)) return b == '{';
    }
    return false;
  }

  private static SerializationException failure(String topic, byte[] data, String why, Throwable cause) {
    return new SerializationException("topic " + topic + ": cannot read value: " + why + "; first bytes: " + WireFormat.preview(data), cause);
  }
}
