package io.prefstream.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.schemas.CheckpointChunk;
import io.prefstream.schemas.PreferencePair;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

/** Values whose lengths claim more than they hold, or more than the limits allow, fail before any allocation. */
class DecodeLimitsTest {
  private static final long CLAIM = 2_147_483_639L;
  private final Map<String, Object> props = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://decode-limits-" + UUID.randomUUID(),
      SerdeConfig.MAX_COLLECTION_ITEMS, "16", SerdeConfig.MAX_NESTING_DEPTH, "8");

  private <T extends org.apache.avro.specific.SpecificRecord> RecordDeserializer<T> reader(Class<T> type) {
    RecordDeserializer<T> d = new RecordDeserializer<>(type);
    d.configure(props, false);
    return d;
  }

  private int schemaId(String topic, org.apache.avro.specific.SpecificRecord record) {
    AvroSerializer<org.apache.avro.specific.SpecificRecord> s = new AvroSerializer<>();
    s.configure(props, false);
    return WireFormat.schemaId(s.serialize(topic, record));
  }

  @Test
  void bytesFieldClaiming2pow31_failsWithoutAllocating() throws Exception {
    CheckpointChunk chunk = CheckpointChunk.newBuilder().setModelName("m").setVersion(1).setIndex(0).setPath("f").setOffset(0)
        .setData(ByteBuffer.wrap(new byte[] {1})).setSha256("x").build();
    int id = schemaId("model.checkpoints", chunk);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder e = EncoderFactory.get().binaryEncoder(out, null);
    e.writeString("m");
    e.writeLong(1);
    e.writeInt(0);
    e.writeString("f");
    e.writeLong(0);
    e.writeLong(CLAIM); // data: a length, then nothing
    e.flush();
    byte[] bomb = WireFormat.frame(id, out.toByteArray());
    assertThatThrownBy(() -> reader(CheckpointChunk.class).deserialize("model.checkpoints", bomb))
        .isInstanceOf(SerializationException.class).hasMessageContaining("claims " + CLAIM + " bytes");
  }

  @Test
  void arrayOverTheItemLimit_isRefused_atTheLimitIsRead() {
    List<Integer> sixteen = java.util.stream.IntStream.range(0, 16).boxed().toList();
    PreferencePair atLimit = PreferencePair.newBuilder().setEventId("e").setPrompt("p").setChosen("a").setRejected("b").setPromptIds(sixteen).build();
    AvroSerializer<PreferencePair> s = new AvroSerializer<>();
    s.configure(props, false);
    assertThat(reader(PreferencePair.class).deserialize("t", s.serialize("t", atLimit)).getPromptIds()).hasSize(16);
    PreferencePair over = PreferencePair.newBuilder(atLimit).setPromptIds(java.util.stream.IntStream.range(0, 17).boxed().toList()).build();
    assertThatThrownBy(() -> reader(PreferencePair.class).deserialize("t", s.serialize("t", over)))
        .isInstanceOf(SerializationException.class).hasMessageContaining("17 items; at most 16");
  }

  /**
   * A newer writer's field of nulls, which this reader skips: each block alone may claim the most
   * items, so only their total bounds the skipping (an item of null takes no bytes).
   */
  @Test
  void writerOnlyArrayOfNulls_pastTheItemLimitAcrossBlocks_isRefused_atTheLimitIsSkipped() {
    Schema current = PreferencePair.getClassSchema();
    List<Schema.Field> fields = new ArrayList<>(current.getFields().stream().map(f -> new Schema.Field(f, f.schema())).toList());
    fields.add(new Schema.Field("nulls", Schema.createArray(Schema.create(Schema.Type.NULL))));
    Schema writer = Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false, fields);
    int id = SchemaRegistry.of(SerdeConfig.parse(props)).register("t-value", writer);
    AvroSerializer<PreferencePair> s = new AvroSerializer<>();
    s.configure(props, false);
    byte[] pair = s.serialize("t", PreferencePair.newBuilder().setEventId("e").setPrompt("p").setChosen("a").setRejected("b").build());
    byte[] body = java.util.Arrays.copyOfRange(pair, WireFormat.HEADER_LENGTH, pair.length); // the last field, nulls, follows

    byte[] eightAndEight = WireFormat.frame(id, concat(body, new byte[] {0x10, 0x10, 0x00})); // blocks of 8 and 8 items (zig-zag 16), end
    assertThat(reader(PreferencePair.class).deserialize("t", eightAndEight).getEventId()).isEqualTo("e");
    byte[] sixteenTwice = WireFormat.frame(id, concat(body, new byte[] {0x20, 0x20, 0x00})); // two blocks of 16, each alone within the limit
    assertThatThrownBy(() -> reader(PreferencePair.class).deserialize("t", sixteenTwice))
        .isInstanceOf(SerializationException.class).hasMessageContaining("claim 32 items; at most 16");
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] both = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    return both;
  }

  @Test
  void jsonNestedPastTheDepthLimit_orWithTooManyItems_isRefused() {
    String deep = "{\"event_id\":\"e\",\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"b\",\"metadata\":" + "{\"a\":".repeat(20) + "1" + "}".repeat(21);
    assertThatThrownBy(() -> reader(PreferencePair.class).deserialize("t", deep.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(SerializationException.class).hasMessageContaining("nesting depth");
    String many = "{\"event_id\":\"e\",\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"b\",\"prompt_ids\":" + java.util.stream.IntStream.range(0, 17).boxed().toList() + "}";
    assertThatThrownBy(() -> reader(PreferencePair.class).deserialize("t", many.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(SerializationException.class).hasMessageContaining("17 items; at most 16");
  }
}
