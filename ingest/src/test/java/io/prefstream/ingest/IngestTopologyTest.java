package io.prefstream.ingest;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.schemas.ChatMessage;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.schemas.ResponseRating;
import io.prefstream.schemas.ScoreScale;
import io.prefstream.schemas.serde.JsonSerializer;
import io.prefstream.schemas.serde.WireFormat;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class IngestTopologyTest {
  private static final Instant T0 = Instant.parse("2026-11-01T12:00:00Z");

  private TopologyFixture fixture;
  private IngestMetrics metrics;
  private TestInputTopic<byte[], byte[]> pairsIn;
  private TestInputTopic<byte[], byte[]> ratingsIn;
  private TestInputTopic<byte[], byte[]> rankingsIn;
  private TestOutputTopic<String, SpecificRecord> out;
  private TestOutputTopic<byte[], byte[]> dlq;
  @TempDir Path stateDir;

  @BeforeEach
  void start() {
    fixture = new TopologyFixture(stateDir, T0, Map.of(
        IngestConfig.RATINGS_WINDOW_MS, "60000",
        IngestConfig.RATINGS_GRACE_MS, "10000",
        IngestConfig.RATINGS_MAX_PAIRS, "2",
        IngestConfig.MAX_TEXT_BYTES, "100",
        IngestConfig.MAX_TOKENS, "8"));
    metrics = fixture.metrics;
    pairsIn = fixture.pairsIn;
    ratingsIn = fixture.ratingsIn;
    rankingsIn = fixture.rankingsIn;
    out = fixture.out;
    dlq = fixture.dlq;
  }

  @AfterEach
  void stop() {
    fixture.close();
  }

  private <T extends SpecificRecord> byte[] avro(String topic, T record) {
    return fixture.avro(topic, record);
  }

  private static <T extends SpecificRecord> byte[] json(T record) {
    return new JsonSerializer<T>().serialize("t", record);
  }

  static PreferencePair.Builder pair(String id) {
    return PreferencePair.newBuilder().setEventId(id).setPromptId("p1").setPrompt("Say hi").setChosen("Hi!").setRejected("Go away.")
        .setEventTime(T0.toEpochMilli());
  }

  static ResponseRating rating(String id, String responseId, double score, ScoreScale scale) {
    return ResponseRating.newBuilder().setEventId(id).setPromptId("p1").setPrompt("Say hi").setResponseId(responseId)
        .setResponse("text of " + responseId).setScore(score).setScale(scale).setEventTime(T0.toEpochMilli()).build();
  }

  static String header(Headers headers, String key) {
    return new String(headers.lastHeader(key).value(), UTF_8);
  }

  @Test
  void validPair_avroOrJson_reachesPreferencePairsKeyedByPromptId() {
    pairsIn.pipeInput(avro("feedback.pairs", pair("e1").build()));
    pairsIn.pipeInput(json(pair("e2").setPromptId(null).build()));
    List<TestRecord<String, SpecificRecord>> records = out.readRecordsToList();
    assertThat(records).hasSize(2);
    assertThat(records.get(0).key()).isEqualTo("p1");
    assertThat(((PreferencePair) records.get(0).value()).getEventId()).isEqualTo("e1");
    assertThat(records.get(1).key()).startsWith("sha256:"); // a missing prompt id is a hash of the prompt
    assertThat(dlq.isEmpty()).isTrue();
    assertThat(metrics.count("prefstream.ingest.accepted", "kind", "pairs")).isEqualTo(2);
  }

  @Test
  void avroInTheCurrentSchema_passesAsItsOwnBytes_unlessNormalisingChangedIt() throws Exception {
    var raw = fixture.driver.createOutputTopic("preference.pairs", new ByteArrayDeserializer(), new ByteArrayDeserializer());
    // metadata {"a": "1", "b": "2"} as two one-item blocks, which Avro allows and a fresh encoding does not write:
    // it comes out as it went in only if the bytes pass through
    byte[] unchanged = withMetadataBlocks(avro("feedback.pairs", pair("e1").build()),
        new byte[] {0x02, 0x02, 'a', 0x02, '1', 0x02, 0x02, 'b', 0x02, '2', 0x00}); // 1 item "a" -> "1", 1 item "b" -> "2", end
    assertThat(unchanged).isNotEqualTo(avro("feedback.pairs", pair("e1").setMetadata(Map.of("a", "1", "b", "2")).build()));
    // the same map as a block that states its byte size: only skipping reads that size, so it is encoded again
    byte[] sized = withMetadataBlocks(avro("feedback.pairs", pair("e5").build()),
        new byte[] {0x03, 0x10, 0x02, 'a', 0x02, '1', 0x02, 'b', 0x02, '2', 0x00}); // count -2, 8 bytes, the two items, end
    RankedResponses ranking = RankedResponses.newBuilder().setEventId("r1").setPromptId("p1").setPrompt("Say hi")
        .setResponses(List.of("a", "b")).setEventTime(T0.toEpochMilli()).build();
    byte[] rankingBytes = avro("feedback.rankings", ranking);
    pairsIn.pipeInput(unchanged);
    rankingsIn.pipeInput(rankingBytes);
    pairsIn.pipeInput(avro("feedback.pairs", pair("e2").setEventTime(0).build())); // takes the record's timestamp
    pairsIn.pipeInput(avro("feedback.pairs", pair("e3").setPromptId(null).build())); // takes a hash of the prompt

    // an older producer's schema (before the chat message fields), read into the current class: written out in the current schema, not as it came
    Schema current = PreferencePair.getClassSchema();
    Schema older = Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false,
        current.getFields().stream().filter(f -> !f.name().endsWith("_messages")).map(f -> new Schema.Field(f, f.schema())).toList());
    GenericRecord old = new GenericData.Record(older);
    for (Schema.Field f : older.getFields()) old.put(f.name(), pair("e4").build().get(f.name()));
    ByteArrayOutputStream olderAvro = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(olderAvro, null);
    new GenericDatumWriter<GenericRecord>(older).write(old, encoder);
    encoder.flush();
    pairsIn.pipeInput(WireFormat.frame(fixture.registry().register("feedback.pairs-value", older), olderAvro.toByteArray()));
    pairsIn.pipeInput(sized);

    List<byte[]> written = raw.readValuesToList();
    assertThat(written).hasSize(6);
    assertThat(written.get(0)).isEqualTo(unchanged); // one registry scope: the same schema has the same id under every subject
    assertThat(fixture.read("preference.pairs", written.get(0))).isEqualTo(pair("e1").setMetadata(Map.of("a", "1", "b", "2")).build());
    assertThat(written.get(1)).isEqualTo(rankingBytes);
    PreferencePair timed = (PreferencePair) fixture.read("preference.pairs", written.get(2));
    assertThat(timed.getEventTime()).isEqualTo(T0.toEpochMilli());
    assertThat(written.get(2)).isEqualTo(avro("preference.pairs", timed));
    PreferencePair hashed = (PreferencePair) fixture.read("preference.pairs", written.get(3));
    assertThat(hashed.getPromptId()).startsWith("sha256:");
    assertThat(written.get(3)).isEqualTo(avro("preference.pairs", hashed));
    assertThat(WireFormat.schemaId(written.get(4))).isEqualTo(WireFormat.schemaId(unchanged));
    assertThat(fixture.read("preference.pairs", written.get(4))).isEqualTo(pair("e4").build());
    PreferencePair fromSized = pair("e5").setMetadata(Map.of("a", "1", "b", "2")).build();
    assertThat(fixture.read("preference.pairs", written.get(5))).isEqualTo(fromSized);
    assertThat(written.get(5)).as("encoded again, without the block's byte size").isNotEqualTo(sized).hasSize(sized.length - 1);
  }

  /** {@code framed} (a pair with empty metadata, its last field) with the metadata map's bytes replaced by {@code blocks}. */
  private static byte[] withMetadataBlocks(byte[] framed, byte[] blocks) {
    byte[] out = Arrays.copyOf(framed, framed.length - 1 + blocks.length);
    System.arraycopy(blocks, 0, out, framed.length - 1, blocks.length);
    return out;
  }

  static List<Object[]> badPairs() {
    return List.of(
        new Object[] {pair(" ").build(), Reason.MISSING_FIELD},
        new Object[] {pair("e").setPrompt(null).build(), Reason.MISSING_FIELD},
        new Object[] {pair("e").setPrompt("  ").build(), Reason.EMPTY_PROMPT},
        new Object[] {pair("e").setChosen("").build(), Reason.EMPTY_RESPONSE},
        new Object[] {pair("e").setRejected(null).build(), Reason.MISSING_FIELD},
        new Object[] {pair("e").setRejected("Hi!").build(), Reason.SAME_RESPONSES},
        new Object[] {pair("e").setChosen("x".repeat(101)).build(), Reason.TOO_LONG},
        new Object[] {pair("e").setChosenIds(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9)).build(), Reason.TOO_LONG},
        new Object[] {pair("e").setChosenIds(List.of(1, -2)).build(), Reason.BAD_TOKEN},
        new Object[] {pair("e").setPromptId("p".repeat(1025)).build(), Reason.TOO_LONG}, // limits.max.id.bytes: 1024
        new Object[] {pair("e").setWeight(Double.NaN).build(), Reason.BAD_WEIGHT},
        new Object[] {pair("e").setWeight(0).build(), Reason.BAD_WEIGHT},
        new Object[] {pair("e").setWeight(1e39).build(), Reason.BAD_WEIGHT}, // finite, but past limits.max.weight
        new Object[] {pair("e").setEventTime(T0.plus(Duration.ofDays(1)).toEpochMilli()).build(), Reason.BAD_EVENT_TIME},
        new Object[] {pair("e").setEventTime(T0.minus(Duration.ofDays(400)).toEpochMilli()).build(), Reason.BAD_EVENT_TIME});
  }

  @ParameterizedTest
  @MethodSource("badPairs")
  void invalidPair_goesToDlqWithItsReasonAndOriginalBytes(PreferencePair bad, Reason reason) {
    byte[] bytes = avro("feedback.pairs", bad);
    pairsIn.pipeInput("k".getBytes(UTF_8), bytes);
    assertThat(out.isEmpty()).isTrue();
    TestRecord<byte[], byte[]> dead = dlq.readRecord();
    assertThat(dead.value()).isEqualTo(bytes);
    assertThat(dead.key()).isEqualTo("k".getBytes(UTF_8));
    assertThat(header(dead.headers(), DeadLetter.REASON)).isEqualTo(reason.code());
    assertThat(header(dead.headers(), DeadLetter.DETAIL)).isNotBlank();
    assertThat(header(dead.headers(), DeadLetter.SOURCE_TOPIC)).isEqualTo("feedback.pairs");
    assertThat(header(dead.headers(), DeadLetter.SOURCE_PARTITION)).isEqualTo("0");
    assertThat(header(dead.headers(), DeadLetter.SOURCE_OFFSET)).isEqualTo("0");
    assertThat(metrics.count("prefstream.ingest.rejected", "reason", reason.code())).isEqualTo(1);
  }

  @Test
  void poisonPills_goToDlqAndTheTopologyKeepsGoing() {
    byte[][] pills = {{7, 7, 7}, {0, 0, 0, 0, 99, 1}, "{\"event_id\": 3}".getBytes(UTF_8), "{not json".getBytes(UTF_8), new byte[0]};
    for (byte[] pill : pills) pairsIn.pipeInput(pill);
    pairsIn.pipeInput(avro("feedback.pairs", pair("after").build()));
    List<TestRecord<byte[], byte[]>> dead = dlq.readRecordsToList();
    assertThat(dead).hasSize(pills.length);
    assertThat(dead).allSatisfy(d -> assertThat(header(d.headers(), DeadLetter.REASON)).isEqualTo("undeserializable"));
    assertThat(dead.get(1).value()).isEqualTo(pills[1]);
    assertThat(out.readValuesToList()).singleElement().satisfies(p -> assertThat(((PreferencePair) p).getEventId()).isEqualTo("after"));
  }

  @Test
  void repeatedEventId_isDroppedAndCounted() {
    pairsIn.pipeInput(avro("feedback.pairs", pair("same").build()));
    pairsIn.pipeInput(json(pair("same").build()));
    pairsIn.pipeInput(avro("feedback.pairs", pair("other").build()));
    assertThat(out.readValuesToList()).hasSize(2);
    assertThat(metrics.count("prefstream.ingest.duplicates", "kind", "pairs")).isEqualTo(1);
  }

  @Test
  void repeatedEventId_isDroppedWithinTheHorizonOnEitherSideAndAcrossBuckets_andPassesBeyondIt() {
    fixture.clockTo(T0.plus(Duration.ofHours(3)));
    Instant first = T0.plus(Duration.ofMinutes(50)); // the default horizon is an hour; T0 + 1 h starts the next bucket
    for (Duration from : List.of(Duration.ZERO, Duration.ofMinutes(60), Duration.ofMinutes(-59), Duration.ofMinutes(61), Duration.ofMinutes(-61))) {
      pairsIn.pipeInput(avro("feedback.pairs", pair("x").setEventTime(first.plus(from).toEpochMilli()).build()));
    }
    assertThat(out.readValuesToList()).hasSize(3);
    assertThat(metrics.count("prefstream.ingest.duplicates", "kind", "pairs")).isEqualTo(2);
  }

  @Test
  void ranking_valid_passesAndTooFewDistinct_isRejected() {
    RankedResponses ok = RankedResponses.newBuilder().setEventId("r1").setPromptId("p1").setPrompt("q").setResponses(List.of("a", "b", "c"))
        .setEventTime(T0.toEpochMilli()).build();
    RankedResponses same = RankedResponses.newBuilder(ok).setEventId("r2").setResponses(List.of("a", "a")).build();
    RankedResponses one = RankedResponses.newBuilder(ok).setEventId("r3").setResponses(List.of("a")).build();
    rankingsIn.pipeInput(avro("feedback.rankings", ok));
    rankingsIn.pipeInput(json(same));
    rankingsIn.pipeInput(json(one));
    assertThat(out.readValuesToList()).singleElement().isEqualTo(ok);
    assertThat(dlq.readRecordsToList()).extracting(r -> header(r.headers(), DeadLetter.REASON)).containsExactly("too_few_responses", "too_few_responses");
  }

  @Test
  void rating_offScale_isRejected() {
    ratingsIn.pipeInput(avro("feedback.ratings", rating("x1", "a", 0.5, ScoreScale.THUMBS)));
    ratingsIn.pipeInput(avro("feedback.ratings", rating("x2", "a", 6, ScoreScale.STARS_5)));
    ratingsIn.pipeInput(json(ResponseRating.newBuilder(rating("x3", "a", 1, ScoreScale.THUMBS)).setResponseId("").build()));
    assertThat(dlq.readRecordsToList()).extracting(r -> header(r.headers(), DeadLetter.REASON)).containsExactly("bad_score", "bad_score", "missing_field");
  }

  private static byte[] utf8(String json) {
    return json.getBytes(UTF_8);
  }

  @Test
  void chatPair_inTrlsJsonForm_passesWithItsMessages() {
    pairsIn.pipeInput(utf8("""
        {"event_id": "c1", "event_time": %d,
         "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}],
         "chosen": [{"role": "assistant", "content": "Paris."}], "rejected": [{"role": "assistant", "content": "Lyon."}]}""".formatted(T0.toEpochMilli())));
    TestRecord<String, SpecificRecord> passed = out.readRecord();
    PreferencePair p = (PreferencePair) passed.value();
    assertThat(passed.key()).startsWith("sha256:");
    assertThat(p.getPromptMessages()).extracting(ChatMessage::getRole).containsExactly("system", "user");
    assertThat(p.getChosenMessages()).containsExactly(new ChatMessage("assistant", "Paris."));
    assertThat(dlq.isEmpty()).isTrue();
  }

  @Test
  void badChatMessages_goToDlqWithTheirReason() {
    String ok = "[{\"role\": \"assistant\", \"content\": \"A\"}]";
    String template = "{\"event_id\": \"%s\", \"event_time\": " + T0.toEpochMilli() + ", \"prompt\": %s, \"chosen\": %s, \"rejected\": %s}";
    pairsIn.pipeInput(utf8(template.formatted("empty", "[]", ok, "\"B\"")));
    pairsIn.pipeInput(utf8(template.formatted("robot", "[{\"role\": \"robot\", \"content\": \"hi\"}]", ok, "\"B\"")));
    pairsIn.pipeInput(utf8(template.formatted("user-reply", "[{\"role\": \"user\", \"content\": \"hi\"}]", "[{\"role\": \"user\", \"content\": \"A\"}]", "\"B\"")));
    pairsIn.pipeInput(utf8(template.formatted("ends-answered", "[{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"yo\"}]", ok, "\"B\"")));
    pairsIn.pipeInput(utf8(template.formatted("no-reply", "[{\"role\": \"user\", \"content\": \"hi\"}]", "[]", "\"B\"")));
    pairsIn.pipeInput(utf8(template.formatted("same", "[{\"role\": \"user\", \"content\": \"hi\"}]", ok, ok)));
    assertThat(dlq.readRecordsToList()).extracting(r -> header(r.headers(), DeadLetter.REASON))
        .containsExactly("empty_prompt", "bad_role", "bad_role", "bad_role", "empty_response", "same_responses");
    assertThat(out.isEmpty()).isTrue();
  }

  @Test
  void chatRatingsAndRankings_pairAndPassWithTheirMessages() {
    List<ChatMessage> prompt = List.of(new ChatMessage("user", "Say hi"));
    fixture.clockTo(T0);
    for (String[] r : new String[][] {{"r1", "a", "5"}, {"r2", "b", "1"}}) {
      ratingsIn.pipeInput(null, avro("feedback.ratings", ResponseRating.newBuilder(rating(r[0], r[1], Double.parseDouble(r[2]), ScoreScale.STARS_5))
          .setPrompt(null).setPromptMessages(prompt).setResponse(null).setResponseMessages(List.of(new ChatMessage("assistant", "reply " + r[1]))).build()), T0);
    }
    closeWindows(T0.plusSeconds(200));
    PreferencePair p = (PreferencePair) out.readValue();
    assertThat(p.getPromptMessages()).isEqualTo(prompt);
    assertThat(p.getChosenMessages()).containsExactly(new ChatMessage("assistant", "reply a"));
    assertThat(p.getRejectedMessages()).containsExactly(new ChatMessage("assistant", "reply b"));

    rankingsIn.pipeInput(utf8("""
        {"event_id": "k1", "event_time": %d, "prompt": [{"role": "user", "content": "Hi"}],
         "responses": [[{"role": "assistant", "content": "Hello!"}], [{"role": "assistant", "content": "Hey."}]]}""".formatted(T0.toEpochMilli())));
    assertThat(((RankedResponses) out.readValue()).getResponsesMessages()).hasSize(2);
    assertThat(dlq.isEmpty()).isTrue();
  }

  private void rate(String id, String response, double stars, Instant at) {
    fixture.clockTo(at);
    ratingsIn.pipeInput(null, avro("feedback.ratings", ResponseRating.newBuilder(rating(id, response, stars, ScoreScale.STARS_5))
        .setEventTime(at.toEpochMilli()).build()), at);
  }

  /** A rating of another prompt far later: moves stream time so that earlier windows close. */
  private void closeWindows(Instant at) {
    fixture.clockTo(at);
    ratingsIn.pipeInput(null, avro("feedback.ratings", ResponseRating.newBuilder(rating("tick-" + at, "z", 3, ScoreScale.STARS_5))
        .setPromptId("other").setEventTime(at.toEpochMilli()).build()), at);
  }

  @Test
  void ratingsOfOnePrompt_pairHigherOverLower_averagingRaters() {
    rate("r1", "a", 5, T0);
    rate("r2", "a", 3, T0.plusSeconds(5)); // a averages 4 stars
    rate("r3", "b", 2, T0.plusSeconds(10));
    closeWindows(T0.plusSeconds(200));
    List<SpecificRecord> made = out.readValuesToList();
    assertThat(made).singleElement().satisfies(v -> {
      PreferencePair p = (PreferencePair) v;
      assertThat(p.getChosen()).isEqualTo("text of a");
      assertThat(p.getRejected()).isEqualTo("text of b");
      assertThat(p.getSource()).isEqualTo("ratings");
      assertThat(p.getMetadata().get("rating_ids").split(",")).containsExactlyInAnyOrder("r1", "r2", "r3");
    });
    assertThat(metrics.count("prefstream.ingest.rating.pairs")).isEqualTo(1);
  }

  @Test
  void tiedRatings_makeNoPair() {
    rate("t1", "a", 4, T0);
    rate("t2", "b", 4, T0.plusSeconds(1));
    closeWindows(T0.plusSeconds(200));
    assertThat(out.isEmpty()).isTrue();
  }

  @Test
  void ratingsInDifferentWindows_doNotPair() {
    rate("w1", "a", 5, T0);
    rate("w2", "b", 1, T0.plusSeconds(61));
    closeWindows(T0.plusSeconds(300));
    assertThat(out.isEmpty()).isTrue();
  }

  @Test
  void pairsPerPrompt_areCappedWidestGapsFirst() {
    rate("c1", "a", 5, T0);
    rate("c2", "b", 4, T0);
    rate("c3", "c", 2, T0);
    rate("c4", "d", 1, T0); // 6 possible pairs, cap 2: a>d (gap 4) then a>c or b>d (gap 3)
    closeWindows(T0.plusSeconds(200));
    List<SpecificRecord> made = out.readValuesToList();
    assertThat(made).hasSize(2);
    PreferencePair first = (PreferencePair) made.get(0);
    assertThat(first.getChosen() + ">" + first.getRejected()).isEqualTo("text of a>text of d");
  }

  @Test
  void lateRating_goesToDlqAsLate() {
    rate("l1", "a", 5, T0);
    closeWindows(T0.plusSeconds(200));
    rate("l2", "b", 1, T0.plusSeconds(2)); // its window closed at T0+60s+10s grace
    TestRecord<byte[], byte[]> dead = dlq.readRecord();
    assertThat(header(dead.headers(), DeadLetter.REASON)).isEqualTo("late_rating");
    assertThat(header(dead.headers(), DeadLetter.SOURCE_TOPIC)).isEqualTo("feedback.ratings");
    assertThat(header(dead.headers(), DeadLetter.SOURCE_OFFSET)).isEqualTo("2");
    assertThat(metrics.count("prefstream.ingest.rejected", "reason", "late_rating")).isEqualTo(1);
  }
}
