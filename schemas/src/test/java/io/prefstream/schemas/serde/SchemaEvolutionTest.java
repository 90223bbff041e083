package io.prefstream.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each record stays BACKWARD compatible with its committed previous version (src/test/resources/compat/v1). */
class SchemaEvolutionTest {

  @ParameterizedTest
  @ValueSource(strings = {"PreferencePair", "ResponseRating", "RankedResponses", "CheckpointManifest", "CheckpointChunk", "TrainingMetrics"})
  void currentSchema_readsWhatTheCommittedPreviousVersionWrote(String name) throws IOException {
    Schema previous = committed(name);
    Schema current = SpecificData.get().getSchema(loadClass(name));
    assertThat(SchemaCompatibility.checkReaderWriterCompatibility(current, previous).getType())
        .isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
  }

  @ParameterizedTest
  @ValueSource(strings = {"PreferencePair", "ResponseRating", "RankedResponses", "CheckpointManifest", "CheckpointChunk", "TrainingMetrics"})
  void addingAnOptionalField_readsBothWays(String name) throws IOException {
    Schema old = committed(name);
    Schema next = withOptionalField(old, "added_later");
    GenericRecord oldRecord = sample(old);

    GenericRecord readByNew = read(write(oldRecord), old, next);
    assertThat(readByNew.get("added_later")).isNull();
    assertThat(String.valueOf(readByNew.get(old.getFields().get(0).name()))).isEqualTo(String.valueOf(oldRecord.get(0)));

    GenericRecord newRecord = new GenericData.Record(next);
    for (Schema.Field f : old.getFields()) newRecord.put(f.name(), oldRecord.get(f.name()));
    newRecord.put("added_later", "x");
    GenericRecord readByOld = read(write(newRecord), next, old);
    assertThat(readByOld.getSchema().getField("added_later")).isNull();
    assertThat(readByOld.toString()).isEqualTo(oldRecord.toString());
  }

  private static Schema committed(String name) throws IOException {
    try (InputStream in = SchemaEvolutionTest.class.getResourceAsStream("/compat/v1/" + name + ".avsc")) {
      return new Schema.Parser().parse(in);
    }
  }

  private static Class<?> loadClass(String name) {
    try {
      return Class.forName("io.prefstream.schemas." + name);
    } catch (ClassNotFoundException e) {
      throw new AssertionError(e);
    }
  }

  private static Schema withOptionalField(Schema schema, String field) {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : schema.getFields()) fields.add(new Schema.Field(f, f.schema()));
    fields.add(new Schema.Field(field, Schema.createUnion(Schema.create(Schema.Type.NULL), Schema.create(Schema.Type.STRING)), "added in a later version", Schema.Field.NULL_DEFAULT_VALUE));
    return Schema.createRecord(schema.getName(), schema.getDoc(), schema.getNamespace(), false, fields);
  }

  /** A record with every field set: defaults where there are, else a value of the field's type. */
  private static GenericRecord sample(Schema schema) {
    GenericData.Record r = new GenericData.Record(schema);
    for (Schema.Field f : schema.getFields()) r.put(f.name(), valueOf(f.schema()));
    return r;
  }

  private static Object valueOf(Schema s) {
    return switch (s.getType()) {
      case STRING -> "s";
      case INT -> 3;
      case LONG -> 4L;
      case DOUBLE -> 0.5;
      case BOOLEAN -> true;
      case BYTES -> java.nio.ByteBuffer.wrap(new byte[] {1, 2});
      case ENUM -> new GenericData.EnumSymbol(s, s.getEnumSymbols().get(0));
      case ARRAY -> new GenericData.Array<>(s, List.of());
      case MAP -> java.util.Map.of();
      case UNION -> valueOf(s.getTypes().get(s.getTypes().size() - 1));
      case RECORD -> sample(s);
      default -> null;
    };
  }

  private static byte[] write(GenericRecord record) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(record.getSchema()).write(record, enc);
    enc.flush();
    return out.toByteArray();
  }

  private static GenericRecord read(byte[] bytes, Schema writer, Schema reader) throws IOException {
    return new GenericDatumReader<GenericRecord>(writer, reader).read(null, DecoderFactory.get().binaryDecoder(bytes, null));
  }
}
