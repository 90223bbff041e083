package io.prefstream.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.schemas.ChatMessage;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.schemas.ResponseRating;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Chat-formatted feedback (TRL's conversational format) in JSON and Avro, and schema evolution both ways. */
class ConversationalRecordsTest {
  private static final DecodeLimits LIMITS = SerdeConfig.defaults().limits();
  private static final List<ChatMessage> PROMPT = List.of(new ChatMessage("system", "Be brief."), new ChatMessage("user", "Capital of France?"));

  @Test
  void json_trlsConversationalPair_fillsTheMessageFields() {
    String json = """
        {"event_id": "e1",
         "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}],
         "chosen": [{"role": "assistant", "content": "Paris."}],
         "rejected": [{"role": "assistant", "content": "Lyon, I think."}]}""";
    PreferencePair p = JsonRecords.read(json.getBytes(StandardCharsets.UTF_8), PreferencePair.class, PreferencePair.getClassSchema(), LIMITS);

    assertThat(p.getPrompt()).isNull();
    assertThat(p.getPromptMessages()).isEqualTo(PROMPT);
    assertThat(p.getChosenMessages()).containsExactly(new ChatMessage("assistant", "Paris."));
    assertThat(p.getRejectedMessages()).containsExactly(new ChatMessage("assistant", "Lyon, I think."));
    assertThat(p.getChosen()).isNull();
  }

  @Test
  void json_textAndMessagesMix_andTheFieldNamesWork() {
    String json = """
        {"event_id": "e1", "prompt_messages": [{"role": "user", "content": "Hi"}], "chosen": "Hello!", "rejected": [{"role": "assistant", "content": ""}]}""";
    PreferencePair p = JsonRecords.read(json.getBytes(StandardCharsets.UTF_8), PreferencePair.class, PreferencePair.getClassSchema(), LIMITS);

    assertThat(p.getPromptMessages()).containsExactly(new ChatMessage("user", "Hi"));
    assertThat(p.getChosen()).isEqualTo("Hello!");
    assertThat(p.getRejectedMessages()).containsExactly(new ChatMessage("assistant", ""));
  }

  @Test
  void json_rankingAndRatingOfChatResponses() {
    String ranking = """
        {"event_id": "r1", "prompt": [{"role": "user", "content": "Hi"}],
         "responses": [[{"role": "assistant", "content": "Hello!"}], [{"role": "assistant", "content": "Hey."}], [{"role": "assistant", "content": "What?"}]]}""";
    RankedResponses r = JsonRecords.read(ranking.getBytes(StandardCharsets.UTF_8), RankedResponses.class, RankedResponses.getClassSchema(), LIMITS);
    assertThat(r.getResponses()).isNull();
    assertThat(r.getResponsesMessages()).hasSize(3);
    assertThat(r.getResponsesMessages().get(2)).containsExactly(new ChatMessage("assistant", "What?"));

    String plainRanking = """
        {"event_id": "r2", "prompt": "Hi", "responses": ["Hello!", "What?"]}""";
    RankedResponses plain = JsonRecords.read(plainRanking.getBytes(StandardCharsets.UTF_8), RankedResponses.class, RankedResponses.getClassSchema(), LIMITS);
    assertThat(plain.getResponses()).containsExactly("Hello!", "What?");
    assertThat(plain.getResponsesMessages()).isNull();

    String rating = """
        {"event_id": "t1", "prompt_id": "p", "prompt": [{"role": "user", "content": "Hi"}], "response_id": "a",
         "response": [{"role": "assistant", "content": "Hello!"}], "score": 1, "scale": "THUMBS"}""";
    ResponseRating t = JsonRecords.read(rating.getBytes(StandardCharsets.UTF_8), ResponseRating.class, ResponseRating.getClassSchema(), LIMITS);
    assertThat(t.getPromptMessages()).containsExactly(new ChatMessage("user", "Hi"));
    assertThat(t.getResponseMessages()).containsExactly(new ChatMessage("assistant", "Hello!"));
  }

  @Test
  void json_aMessageWithoutContent_namesTheField() {
    String json = """
        {"event_id": "e1", "prompt": [{"role": "user"}], "chosen": "a", "rejected": "b"}""";
    assertThatThrownBy(() -> JsonRecords.read(json.getBytes(StandardCharsets.UTF_8), PreferencePair.class, PreferencePair.getClassSchema(), LIMITS))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("content");
  }

  @Test
  void json_roundTripsAConversationalPair() {
    PreferencePair p = PreferencePair.newBuilder().setEventId("e1").setPromptMessages(PROMPT)
        .setChosenMessages(List.of(new ChatMessage("assistant", "Paris."))).setRejectedMessages(List.of(new ChatMessage("assistant", "Lyon."))).build();
    assertThat(JsonRecords.read(JsonRecords.write(p), PreferencePair.class, PreferencePair.getClassSchema(), LIMITS)).isEqualTo(p);
  }

  @ParameterizedTest
  @ValueSource(strings = {"PreferencePair", "ResponseRating", "RankedResponses"})
  void previousVersion_readsWhatTheCurrentWrites(String name) throws Exception {
    Schema previous = committed(name);
    Schema current = (Schema) Class.forName("io.prefstream.schemas." + name).getMethod("getClassSchema").invoke(null);
    assertThat(SchemaCompatibility.checkReaderWriterCompatibility(previous, current).getType()).isEqualTo(SchemaCompatibilityType.COMPATIBLE);
    assertThat(SchemaCompatibility.checkReaderWriterCompatibility(current, previous).getType()).isEqualTo(SchemaCompatibilityType.COMPATIBLE);
  }

  @Test
  void avro_aConversationalPairReadByTheOldSchema_keepsItsTextFieldsAndDropsTheMessages() throws IOException {
    PreferencePair p = PreferencePair.newBuilder().setEventId("e1").setPromptId("p1").setPromptMessages(PROMPT).setChosen("Paris.")
        .setRejectedMessages(List.of(new ChatMessage("assistant", "Lyon."))).setWeight(2.0).build();
    GenericRecord old = new GenericDatumReader<GenericRecord>(PreferencePair.getClassSchema(), committed("PreferencePair"))
        .read(null, DecoderFactory.get().binaryDecoder(bytes(p), null));

    assertThat(old.get("event_id").toString()).isEqualTo("e1");
    assertThat(old.get("chosen").toString()).isEqualTo("Paris.");
    assertThat(old.get("prompt")).isNull();
    assertThat(old.get("weight")).isEqualTo(2.0);
    assertThat(old.getSchema().getField("prompt_messages")).isNull();
  }

  @Test
  void avro_anOldTextPairReadByTheCurrentSchema_hasNoMessages() throws IOException {
    PreferencePair text = Records.pair("e1");
    // bytes as an old writer makes them: the v1 schema's fields only
    GenericRecord asOld = new GenericDatumReader<GenericRecord>(PreferencePair.getClassSchema(), committed("PreferencePair"))
        .read(null, DecoderFactory.get().binaryDecoder(bytes(text), null));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
    new org.apache.avro.generic.GenericDatumWriter<GenericRecord>(committed("PreferencePair")).write(asOld, enc);
    enc.flush();

    PreferencePair read = new SpecificDatumReader<PreferencePair>(committed("PreferencePair"), PreferencePair.getClassSchema())
        .read(null, DecoderFactory.get().binaryDecoder(out.toByteArray(), null));
    assertThat(read.getPrompt()).isEqualTo("Say hi");
    assertThat(read.getChosenIds()).containsExactly(1, 2, 3);
    assertThat(read.getPromptMessages()).isNull();
    assertThat(read.getChosenMessages()).isNull();
  }

  private static byte[] bytes(SpecificRecord record) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
    new SpecificDatumWriter<SpecificRecord>(record.getSchema()).write(record, enc);
    enc.flush();
    return out.toByteArray();
  }

  private static Schema committed(String name) throws IOException {
    try (InputStream in = ConversationalRecordsTest.class.getResourceAsStream("/compat/v1/" + name + ".avsc")) {
      return new Schema.Parser().parse(in);
    }
  }
}
