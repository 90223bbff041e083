package io.prefstream.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class AvroSerdeTest {

  private static Map<String, Object> scope(String name) {
    return Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://" + name);
  }

  private static <T> T configured(T serde, String scope) {
    if (serde instanceof AvroSerializer<?> s) s.configure(scope(scope), false);
    if (serde instanceof RecordDeserializer<?> d) d.configure(scope(scope), false);
    return serde;
  }

  @Test
  void serialize_writesMagicByteSchemaIdThenAvroBinary() throws Exception {
    PreferencePair pair = Records.pair("e1");
    byte[] bytes = configured(new AvroSerializer<PreferencePair>(), "layout").serialize("feedback.pairs", pair);

    ByteArrayOutputStream avro = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(avro, null);
    new SpecificDatumWriter<>(PreferencePair.class).write(pair, encoder);
    encoder.flush();
    byte[] expected = ByteBuffer.allocate(5 + avro.size()).put((byte) 0).putInt(1).put(avro.toByteArray()).array();
    assertThat(bytes).isEqualTo(expected); // the first schema of a fresh scope gets id 1
  }

  @Test
  void serialize_reusesItsBuffer_yetWritesEachRecordAsAFreshSerializerWould() {
    AvroSerializer<PreferencePair> reused = configured(new AvroSerializer<>(), "reuse");
    PreferencePair small = Records.pair("small");
    PreferencePair large = PreferencePair.newBuilder(Records.pair("large")).setPrompt("x".repeat(3 << 20)).build(); // grows the buffer past what is kept
    PreferencePair broken = Records.pair("broken");
    broken.setMetadata(null); // the writer fails at the last field, after it has written the others

    assertThat(reused.serialize("t", small)).isEqualTo(configured(new AvroSerializer<PreferencePair>(), "reuse").serialize("t", small));
    assertThat(reused.serialize("t", large)).isEqualTo(configured(new AvroSerializer<PreferencePair>(), "reuse").serialize("t", large));
    assertThatThrownBy(() -> reused.serialize("t", broken)).isInstanceOf(SerializationException.class);
    assertThat(reused.serialize("t", small)).isEqualTo(configured(new AvroSerializer<PreferencePair>(), "reuse").serialize("t", small));
  }

  @Test
  void serialize_registersUnderTopicNameStrategySubject() {
    configured(new AvroSerializer<PreferencePair>(), "subjects").serialize("feedback.pairs", Records.pair("e1"));
    SchemaRegistry registry = SchemaRegistry.of(SerdeConfig.parse(scope("subjects")));
    assertThat(registry.latest("feedback.pairs-value").schema()).isEqualTo(PreferencePair.getClassSchema());
  }

  @Test
  void roundTrip_returnsEqualRecord() {
    byte[] bytes = configured(new AvroSerializer<PreferencePair>(), "rt").serialize("t", Records.pair("e1"));
    PreferencePair back = configured(new RecordDeserializer<>(PreferencePair.class), "rt").deserialize("t", bytes);
    assertThat(back).isEqualTo(Records.pair("e1"));
  }

  @Test
  void read_saysWhetherTheBytesAreAvroInTheRecordsOwnSchema() throws Exception {
    RecordDeserializer<PreferencePair> reader = configured(new RecordDeserializer<>(PreferencePair.class), "as-written");
    byte[] own = configured(new AvroSerializer<PreferencePair>(), "as-written").serialize("t", Records.pair("e1"));
    assertThat(reader.read("t", own)).isEqualTo(new RecordDeserializer.Read<>(Records.pair("e1"), true, 0));

    String json = "{\"event_id\":\"e1\",\"prompt\":\"hi\",\"chosen\":\"a\",\"rejected\":\"b\"}";
    assertThat(reader.read("t", json.getBytes(StandardCharsets.UTF_8)).asWritten()).isFalse();

    // an older writer's schema (without the chat message fields): read into the current class, but its bytes are not that record's encoding
    Schema older = new Schema.Parser().parse(AvroSerdeTest.class.getResourceAsStream("/compat/v1/PreferencePair.avsc"));
    GenericRecord old = new GenericData.Record(older);
    for (Schema.Field f : older.getFields()) old.put(f.name(), Records.pair("e2").get(f.name()));
    ByteArrayOutputStream avro = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(avro, null);
    new GenericDatumWriter<GenericRecord>(older).write(old, encoder);
    encoder.flush();
    int olderId = SchemaRegistry.of(SerdeConfig.parse(scope("as-written"))).register("t-value", older);
    RecordDeserializer.Read<PreferencePair> read = reader.read("t", WireFormat.frame(olderId, avro.toByteArray()));
    assertThat(read.record().getEventId()).isEqualTo("e2");
    assertThat(read.asWritten()).isFalse();
  }

  @Test
  void read_ofAStringThatIsNotUtf8_isNotAsWritten_itsTextReplacedAsBefore() {
    RecordDeserializer<PreferencePair> reader = configured(new RecordDeserializer<>(PreferencePair.class), "not-utf8");
    byte[] bytes = configured(new AvroSerializer<PreferencePair>(), "not-utf8").serialize("t", Records.pair("e1"));
    byte[] prompt = "Say hi".getBytes(StandardCharsets.UTF_8);
    int at = indexOf(bytes, prompt);
    bytes[at + 3] = (byte) 0xFF; // "Say\xFFhi": the same length, so still a well-formed Avro value

    RecordDeserializer.Read<PreferencePair> read = reader.read("t", bytes);
    assertThat(read.record().getPrompt()).isEqualTo("Say\uFFFDhi");
    assertThat(read.asWritten()).as("the bytes do not say what was read").isFalse();
    assertThat(read.bytesAdded()).as("U+FFFD takes three bytes where 0xFF took one").isEqualTo(2);
  }

  /** Valid text beyond ASCII, a written U+FFFD among it, says what was read: such records still pass through. */
  @Test
  void read_ofNonAsciiUtf8_isAsWritten() {
    RecordDeserializer<PreferencePair> reader = configured(new RecordDeserializer<>(PreferencePair.class), "utf8");
    PreferencePair pair = Records.pair("e1");
    pair.setPrompt("Grüße 你好 \uFFFD 🙂");
    byte[] bytes = configured(new AvroSerializer<PreferencePair>(), "utf8").serialize("t", pair);
    RecordDeserializer.Read<PreferencePair> read = reader.read("t", bytes);
    assertThat(read.record()).isEqualTo(pair);
    assertThat(read.asWritten()).isTrue();
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) return i;
    }
    throw new AssertionError("not found");
  }

  @Test
  void serializeEncoded_writesWhatSerializeWrites_underTheTopicsSchemaId() {
    AvroSerializer<PreferencePair> serializer = configured(new AvroSerializer<>(), "encoded");
    PreferencePair pair = Records.pair("e1");
    byte[] written = serializer.serialize("t", pair);
    byte[] underAnotherId = WireFormat.withSchemaId(written, 99);

    assertThat(WireFormat.schemaId(underAnotherId)).isEqualTo(99);
    assertThat(serializer.serializeEncoded("t", pair.getSchema(), underAnotherId)).isEqualTo(written);
    assertThat(serializer.serializeEncoded("t", pair.getSchema(), written)).isEqualTo(written);
  }

  @Test
  void deserialize_readsPlainJson() {
    String json = "{\"event_id\":\"e7\",\"prompt\":\"hi\",\"chosen\":\"a\",\"rejected\":\"b\",\"chosen_ids\":[4,5],\"metadata\":{\"k\":\"v\"}}";
    PreferencePair pair = new RecordDeserializer<>(PreferencePair.class).deserialize("t", json.getBytes(StandardCharsets.UTF_8));
    assertThat(pair.getEventId()).isEqualTo("e7");
    assertThat(pair.getChosenIds()).containsExactly(4, 5);
    assertThat(pair.getWeight()).isEqualTo(1.0); // the schema's default
    assertThat(pair.getMetadata()).containsEntry("k", "v");
    assertThat(pair.getRejectedIds()).isNull();
  }

  @Test
  void jsonSerializer_roundTripsThroughTheDeserializer() {
    RankedResponses ranked = RankedResponses.newBuilder().setEventId("r1").setPrompt("p")
        .setResponses(List.of("best", "worse")).setResponsesIds(List.of(List.of(1, 2), List.of(3))).build();
    byte[] json = new JsonSerializer<RankedResponses>().serialize("t", ranked);
    assertThat(new RecordDeserializer<>(RankedResponses.class).deserialize("t", json)).isEqualTo(ranked);
  }

  @Test
  void deserialize_jsonWithWrongType_namesFieldAndTopic() {
    byte[] json = "{\"event_id\": 5}".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> new RecordDeserializer<>(PreferencePair.class).deserialize("feedback.pairs", json))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("topic feedback.pairs")
        .hasMessageContaining("field 'event_id': expected a string");
  }

  @Test
  void deserialize_jsonWithoutRequiredField_saysWhich() {
    byte[] json = "{\"prompt\": \"x\"}".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> new RecordDeserializer<>(PreferencePair.class).deserialize("t", json))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("'event_id'").hasMessageContaining("required");
  }

  @Test
  void deserialize_wrongMagicByte_showsFirstBytes() {
    byte[] bytes = {7, 0, 0, 0, 1, 2, 3};
    assertThatThrownBy(() -> new RecordDeserializer<>(PreferencePair.class).deserialize("feedback.pairs", bytes))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("topic feedback.pairs")
        .hasMessageContaining("magic byte 0")
        .hasMessageContaining("07 00 00 00 01 02 03 (7 bytes)");
  }

  @Test
  void deserialize_tooShort_saysSo() {
    assertThatThrownBy(() -> new RecordDeserializer<>(PreferencePair.class).deserialize("t", new byte[] {0, 0}))
        .isInstanceOf(SerializationException.class).hasMessageContaining("too short");
  }

  @Test
  void deserialize_unknownSchemaId_namesTheId() {
    byte[] bytes = WireFormat.frame(4242, new byte[] {2, 'e', '1'});
    assertThatThrownBy(() -> configured(new RecordDeserializer<>(PreferencePair.class), "unknown-id").deserialize("t", bytes))
        .isInstanceOf(SerializationException.class).hasMessageContaining("schema id 4242");
  }

  @Test
  void deserialize_truncatedAvro_isOneClearError() {
    byte[] good = configured(new AvroSerializer<PreferencePair>(), "trunc").serialize("t", Records.pair("e1"));
    byte[] truncated = Arrays.copyOf(good, good.length - 6);
    assertThatThrownBy(() -> configured(new RecordDeserializer<>(PreferencePair.class), "trunc").deserialize("t", truncated))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("not a valid PreferencePair");
  }

  @Test
  void topicRecordNameStrategy_letsOneTopicCarryTwoTypes() {
    Map<String, Object> config = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://two-types",
        SerdeConfig.VALUE_SUBJECT_NAME_STRATEGY, "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy");
    AvroSerializer<org.apache.avro.specific.SpecificRecord> serializer = new AvroSerializer<>();
    serializer.configure(config, false);
    RankedResponses ranked = RankedResponses.newBuilder().setEventId("r1").setResponses(List.of("a", "b")).build();
    byte[] pairBytes = serializer.serialize("preference.pairs", Records.pair("p1"));
    byte[] rankedBytes = serializer.serialize("preference.pairs", ranked);

    var deserializer = RecordDeserializer.ofAny(PreferencePair.class, RankedResponses.class);
    deserializer.configure(config, false);
    assertThat(deserializer.deserialize("preference.pairs", pairBytes)).isEqualTo(Records.pair("p1"));
    assertThat(deserializer.deserialize("preference.pairs", rankedBytes)).isEqualTo(ranked);
    SchemaRegistry registry = SchemaRegistry.of(SerdeConfig.parse(config));
    assertThat(registry.latest("preference.pairs-io.prefstream.schemas.RankedResponses").schema()).isEqualTo(RankedResponses.getClassSchema());
  }

  @Test
  void config_useLatestVersionWithAutoRegister_isRefused() {
    assertThatThrownBy(() -> SerdeConfig.parse(Map.of(SerdeConfig.USE_LATEST_VERSION, "true")))
        .hasMessageContaining("auto.register.schemas=false");
  }
}
