package io.prefstream.ingest;

import static io.prefstream.ingest.IngestTopologyTest.header;
import static io.prefstream.ingest.IngestTopologyTest.pair;
import static io.prefstream.ingest.IngestTopologyTest.rating;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.ResponseRating;
import io.prefstream.schemas.ScoreScale;
import io.prefstream.schemas.serde.JsonSerializer;
import io.prefstream.schemas.serde.SchemaRegistryException;
import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.schemas.serde.WireFormat;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Input built to stop ingest: each lands in the DLQ with its reason, the valid record after it
 * still goes through, and nothing is allocated on a length's say-so.
 */
class HostileInputTest {
  private static final Instant T0 = Instant.parse("2026-11-01T12:00:00Z");

  @TempDir Path stateDir;
  private TopologyFixture ingest;
  private int pairSchemaId;

  @BeforeEach
  void start() {
    ingest = new TopologyFixture(stateDir, T0, Map.of(IngestConfig.RATINGS_MAX_PER_PROMPT, "3"));
    pairSchemaId = WireFormat.schemaId(ingest.avro("feedback.pairs", pair("registers-the-schema").build()));
  }

  @AfterEach
  void stop() {
    ingest.close();
  }

  /** Sends the bomb, then a valid pair: the bomb is in the DLQ with its reason, the pair in preference.pairs. */
  private void assertDeadLetteredAndIngestGoesOn(byte[] bomb, Reason reason) {
    ingest.pairsIn.pipeInput("k".getBytes(UTF_8), bomb);
    ingest.pairsIn.pipeInput(ingest.avro("feedback.pairs", pair("valid-after").build()));
    TestRecord<byte[], byte[]> dead = ingest.dlq.readRecord();
    assertThat(header(dead.headers(), DeadLetter.REASON)).isEqualTo(reason.code());
    assertThat(ingest.dlq.isEmpty()).isTrue();
    assertThat(ingest.out.readValuesToList()).singleElement()
        .satisfies(p -> assertThat(((PreferencePair) p).getEventId()).isEqualTo("valid-after"));
  }

  @Test
  void avroArrayClaiming2pow31Items_isUndeserializable() {
    assertDeadLetteredAndIngestGoesOn(HostileValues.arrayClaiming(pairSchemaId), Reason.UNDESERIALIZABLE);
  }

  @Test
  void avroStringClaiming2pow31Bytes_isUndeserializable() {
    assertDeadLetteredAndIngestGoesOn(HostileValues.stringClaiming(pairSchemaId), Reason.UNDESERIALIZABLE);
  }

  @Test
  void avroMapClaiming2pow31Entries_isUndeserializable() {
    assertDeadLetteredAndIngestGoesOn(HostileValues.mapClaiming(pairSchemaId), Reason.UNDESERIALIZABLE);
  }

  /** 400,000 bytes of 0xFF read as as many U+FFFD: encoded again they would take 1.2 MB, past the limit. */
  @Test
  void brokenUtf8ThatGrowsPastTheLimitWhenEncodedAgain_isTooLarge() {
    byte[] bomb = ingest.avro("feedback.pairs", pair("broken-utf8").setMetadata(Map.of("pad", "x".repeat(400_000))).build());
    java.util.Arrays.fill(bomb, bomb.length - 1 - 400_000, bomb.length - 1, (byte) 0xFF); // the pad ends the value, before the map's end: still well-formed Avro
    assertDeadLetteredAndIngestGoesOn(bomb, Reason.TOO_LARGE);
  }

  @Test
  void jsonNested100000Deep_isUndeserializable() {
    assertDeadLetteredAndIngestGoesOn(HostileValues.jsonNested(100_000), Reason.UNDESERIALIZABLE);
  }

  @Test
  void tenMegabyteRecord_isTooLarge_andItsDlqCopyIsCutToFitTheProducer() {
    byte[] big = ingest.avro("feedback.pairs", pair("big").setChosen("x".repeat(10 << 20)).build());
    ingest.pairsIn.pipeInput("k".getBytes(UTF_8), big);
    ingest.pairsIn.pipeInput(ingest.avro("feedback.pairs", pair("valid-after").build()));
    TestRecord<byte[], byte[]> dead = ingest.dlq.readRecord();
    assertThat(header(dead.headers(), DeadLetter.REASON)).isEqualTo("too_large");
    assertThat(header(dead.headers(), DeadLetter.VALUE_TRUNCATED)).isEqualTo(String.valueOf(big.length));
    assertThat(dead.value().length).isLessThanOrEqualTo((1 << 20) - DeadLetter.HEADROOM_BYTES);
    assertThat(dead.value()).isEqualTo(java.util.Arrays.copyOf(big, dead.value().length)); // the start of the original
    assertThat(ingest.out.readValuesToList()).hasSize(1);
  }

  /**
   * Records of exactly limits.max.record.bytes, sent without a key, with the longest ids allowed:
   * what ingest writes for them (the prompt id as key, a hash for a missing one, a rating's source
   * metadata, a labelled response's and a rating pair's copied ids) still fits a producer request.
   */
  @Test
  void recordsAtTheSizeLimit_withNoKeyAndTheLongestIds_fitTheProducersRequest(@TempDir Path otherState) {
    try (TopologyFixture f = new TopologyFixture(otherState, T0, Map.of(IngestConfig.RATINGS_UNPAIRED, "true"))) {
      int limit = f.config.limits().maxRecordBytes();
      Function<String, String> longestId = tag -> tag + "-" + "i".repeat(f.config.limits().maxIdBytes() - tag.length() - 1);
      f.pairsIn.pipeInput(null, ofSize(limit, pad -> new JsonSerializer<PreferencePair>().serialize("t",
          pair(longestId.apply("json")).setPromptId(null).setMetadata(Map.of("pad", pad)).build())));
      f.pairsIn.pipeInput(null, ofSize(limit, pad -> f.avro("feedback.pairs",
          pair(longestId.apply("avro")).setPromptId(null).setMetadata(Map.of("pad", pad)).build())));
      for (Object[] r : new Object[][] {{"up", 1.0, ScoreScale.THUMBS}, {"better", 3.5, ScoreScale.STARS_5}, {"worse", 2.5, ScoreScale.STARS_5}}) {
        ResponseRating rating = ResponseRating.newBuilder(rating(longestId.apply((String) r[0]), longestId.apply("response-" + r[0]), (double) r[1], (ScoreScale) r[2]))
            .setPromptId(longestId.apply("prompt")).setRaterId(longestId.apply("rater")).build();
        f.ratingsIn.pipeInput(null, ofSize(limit, pad -> f.avro("feedback.ratings", ResponseRating.newBuilder(rating).setMetadata(Map.of("pad", pad)).build())), T0);
      }
      Instant later = T0.plusSeconds(200);
      f.clockTo(later);
      f.ratingsIn.pipeInput(null, f.avro("feedback.ratings", ResponseRating.newBuilder(rating("tick", "z", 3, ScoreScale.STARS_5))
          .setPromptId("other").setEventTime(later.toEpochMilli()).build()), later); // closes the window: the two stars ratings pair up
      assertThat(f.dlq.isEmpty()).isTrue();
      assertThat(f.out.readValuesToList()).extracting(v -> v.getClass().getSimpleName())
          .containsExactly("PreferencePair", "PreferencePair", "LabelledResponse", "PreferencePair");
      assertThat(f.largestWrittenBytes()).isGreaterThan(limit).isLessThanOrEqualTo(f.config.maxRequestBytes());
    }
  }

  /** A record's encoding, padded through {@code encode}'s argument to exactly {@code bytes}. */
  private static byte[] ofSize(int bytes, Function<String, byte[]> encode) {
    byte[] value = encode.apply("");
    for (int pad = 0; value.length != bytes; value = encode.apply("x".repeat(pad))) pad += bytes - value.length;
    return value;
  }

  @Test
  void ratingDatedInTheAllowedFuture_doesNotCloseOtherPromptsWindows() {
    rate("now-1", "p1", "a", 5, T0);
    rate("future", "p2", "x", 5, T0.plus(Duration.ofMinutes(59))); // allowed: limits.max.future.skew.ms is 1 h
    rate("now-2", "p1", "b", 1, T0.plusSeconds(1));
    assertThat(ingest.dlq.readRecordsToList()).as("no rating of p1 is late").extracting(d -> header(d.headers(), DeadLetter.DETAIL)).isEmpty();
    ingest.clockTo(T0.plus(Duration.ofMinutes(2)));
    rate("tick", "p3", "z", 3, T0.plus(Duration.ofMinutes(2))); // real time moves on: p1's window closes
    assertThat(ingest.out.readValuesToList()).singleElement().satisfies(p -> {
      PreferencePair pair = (PreferencePair) p;
      assertThat(pair.getPromptId()).isEqualTo("p1");
      assertThat(pair.getChosen()).isEqualTo("text of a");
    });
  }

  @Test
  void ratingsPastTheLimitPerPromptAndWindow_goToDlq_theOthersStillPair() {
    for (int i = 0; i < 5; i++) rate("r" + i, "p1", "resp" + i, 1 + i, T0.plusSeconds(i));
    List<TestRecord<byte[], byte[]>> dead = ingest.dlq.readRecordsToList();
    assertThat(dead).extracting(d -> header(d.headers(), DeadLetter.REASON)).containsExactly("too_many_ratings", "too_many_ratings");
    assertThat(ingest.metrics.count("prefstream.ingest.rejected", "reason", "too_many_ratings")).isEqualTo(2);
    ingest.clockTo(T0.plus(Duration.ofMinutes(5)));
    rate("tick", "p3", "z", 3, T0.plus(Duration.ofMinutes(5)));
    assertThat(ingest.out.readValuesToList()).extracting(p -> ((PreferencePair) p).getMetadata().get("chosen_response_id"))
        .containsOnly("resp2", "resp1"); // the three kept ratings: resp2 > resp1 > resp0
  }

  /** 17 responses of 64 KB to one prompt in one window would store over 1 MiB: the ratings past the window's budget go to the DLQ. */
  @Test
  void ratingsPastTheBytesOneWindowStores_goToDlq_theOthersPair_andEveryWriteFitsARequest(@TempDir Path otherState) {
    try (TopologyFixture f = new TopologyFixture(otherState, T0, Map.of())) {
      for (int i = 0; i < 17; i++) {
        ResponseRating r = ResponseRating.newBuilder(rating("big-" + i, "resp" + i, 1 + i / 4.0, ScoreScale.STARS_5)).setResponse(i + "x".repeat(64_000)).build();
        f.ratingsIn.pipeInput(null, f.avro("feedback.ratings", r), T0);
      }
      List<TestRecord<byte[], byte[]>> dead = f.dlq.readRecordsToList();
      int budget = f.config.pairing().maxWindowBytes();
      int kept = 17 - dead.size();
      assertThat(kept).as("as many as the budget holds").isEqualTo(budget / 64_200);
      assertThat(dead).allSatisfy(d -> {
        assertThat(header(d.headers(), DeadLetter.REASON)).isEqualTo("window_too_large");
        assertThat(header(d.headers(), DeadLetter.DETAIL)).contains("past the " + budget + " one window may store");
        assertThat(header(d.headers(), DeadLetter.SOURCE_TOPIC)).isEqualTo("feedback.ratings");
      });
      Instant later = T0.plusSeconds(200);
      f.clockTo(later);
      f.ratingsIn.pipeInput(null, f.avro("feedback.ratings", ResponseRating.newBuilder(rating("tick", "z", 3, ScoreScale.STARS_5))
          .setPromptId("other").setEventTime(later.toEpochMilli()).build()), later);
      assertThat(f.out.readValuesToList()).hasSize(f.config.pairing().maxPairsPerPrompt())
          .allSatisfy(p -> assertThat(Integer.parseInt(((PreferencePair) p).getMetadata().get("chosen_response_id").substring(4))).isLessThan(kept));
      assertThat(f.largestWrittenBytes()).isLessThanOrEqualTo(f.config.maxRequestBytes());
    }
  }

  @Test
  void registryOutage_isRetriedThenStops_neverDeadLettered(@TempDir Path otherState) throws IOException {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    Map<String, Object> settings = new HashMap<>();
    settings.put(SerdeConfig.SCHEMA_REGISTRY_URL, "http://127.0.0.1:" + closedPort);
    settings.put(SerdeConfig.REGISTRY_RETRY_MAX_MS, "500");
    byte[] valid = ingest.avro("feedback.pairs", pair("valid-while-registry-down").build());
    try (TopologyFixture registryDown = new TopologyFixture(otherState, T0, settings)) {
      assertThatThrownBy(() -> registryDown.pairsIn.pipeInput(valid))
          .satisfies(e -> assertThat(causes(e)).anySatisfy(c -> assertThat(c).isInstanceOfSatisfying(SchemaRegistryException.class,
              r -> assertThat(r.unavailable()).isTrue()).hasMessageContaining("gave no answer in 500 ms")));
      assertThat(registryDown.dlq.isEmpty()).isTrue();
      assertThat(registryDown.out.isEmpty()).isTrue();
    }
  }

  @Test
  void registryClientThatCannotBeSetUp_stopsIngest_neverDeadLettered(@TempDir Path otherState) {
    Map<String, Object> settings = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "https://127.0.0.1:1",
        "schema.registry.ssl.truststore.location", otherState.resolve("missing.jks").toString());
    byte[] valid = ingest.avro("feedback.pairs", pair("valid-while-truststore-unreadable").build());
    try (TopologyFixture broken = new TopologyFixture(otherState, T0, settings)) {
      assertThatThrownBy(() -> broken.pairsIn.pipeInput(valid))
          .satisfies(e -> assertThat(causes(e)).anySatisfy(c -> assertThat(c).isInstanceOf(ConfigException.class).hasMessageContaining("schema.registry.ssl")));
      assertThat(broken.dlq.isEmpty()).isTrue();
      assertThat(broken.out.isEmpty()).isTrue();
    }
  }

  private static List<Throwable> causes(Throwable e) {
    List<Throwable> chain = new java.util.ArrayList<>();
    for (Throwable t = e; t != null; t = t.getCause()) chain.add(t);
    return chain;
  }

  /** A rating dated {@code eventTime}, sent now (by the ingest clock). */
  private void rate(String id, String promptId, String responseId, double stars, Instant eventTime) {
    ResponseRating r = ResponseRating.newBuilder(rating(id, responseId, stars, ScoreScale.STARS_5))
        .setPromptId(promptId).setEventTime(eventTime.toEpochMilli()).build();
    ingest.ratingsIn.pipeInput(null, ingest.avro("feedback.ratings", r), ingest.clock());
  }
}
