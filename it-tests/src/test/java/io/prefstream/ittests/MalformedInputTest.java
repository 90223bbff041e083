package io.prefstream.ittests;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prefstream.ingest.DeadLetter;
import io.prefstream.ingest.Reason;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.testkit.KafkaBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * One bad event for every reason ingest rejects one, between valid pairs, rankings and ratings,
 * through the whole pipeline: each bad one lands in the DLQ with its reason, each valid one on
 * preference.pairs, and the trainer trains on all of those.
 */
class MalformedInputTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  @TempDir Path tmp;

  private final List<String> expectedDeadLetters = new ArrayList<>();
  private final List<String> expectedValid = new ArrayList<>();
  private final Set<Reason> reasonsSent = EnumSet.noneOf(Reason.class);

  @Test
  void everyKindOfBadInput_goesToTheDlqWithItsReason_everyValidEventIsTrainedOn() throws Exception {
    Clients clients = Clients.plaintext(broker.bootstrapServers(), "e2e-malformed");
    try (Pipeline pipeline = Pipeline.start("e2e-malformed", clients, tmp); Feedback feedback = new Feedback(clients)) {
      Pipeline.Topics t = pipeline.topics();
      long now = System.currentTimeMillis();

      valid(feedback.avro(t.feedbackPairs(), "k", Feedback.pair("pair-0").build()), "pair-0");
      bad(feedback.bytes(t.feedbackPairs(), "garbage", new byte[] {42, 42, 42}), "garbage", Reason.UNDESERIALIZABLE, t.feedbackPairs());
      bad(feedback.bytes(t.feedbackPairs(), "broken-json", "{\"event_id\": \"j1\", \"prompt\": ".getBytes(UTF_8)), "broken-json", Reason.UNDESERIALIZABLE, t.feedbackPairs());
      bad(feedback.bytes(t.feedbackPairs(), "tombstone", null), "tombstone", Reason.UNDESERIALIZABLE, t.feedbackPairs());
      bad(feedback.bytes(t.feedbackPairs(), "unknown-schema", new byte[] {0, 0x7f, 0, 0, 1, 2, 3}), "unknown-schema", Reason.UNDESERIALIZABLE, t.feedbackPairs());
      valid(feedback.json(t.feedbackPairs(), "k", Feedback.pair("pair-1").build()), "pair-1");
      bad(feedback.avro(t.feedbackPairs(), "no-rejected", Feedback.pair("e1").setRejected(null).build()), "no-rejected", Reason.MISSING_FIELD, t.feedbackPairs());
      bad(feedback.bytes(t.feedbackPairs(), "json-no-chosen", "{\"event_id\": \"e2\", \"prompt\": \"q\", \"rejected\": \"r\"}".getBytes(UTF_8)),
          "json-no-chosen", Reason.MISSING_FIELD, t.feedbackPairs());
      bad(feedback.avro(t.feedbackPairs(), "blank-prompt", Feedback.pair("e3").setPrompt("  ").build()), "blank-prompt", Reason.EMPTY_PROMPT, t.feedbackPairs());
      valid(feedback.avro(t.feedbackPairs(), "k", Feedback.pair("pair-2").build()), "pair-2");
      bad(feedback.avro(t.feedbackPairs(), "empty-chosen", Feedback.pair("e4").setChosen("").build()), "empty-chosen", Reason.EMPTY_RESPONSE, t.feedbackPairs());
      bad(feedback.avro(t.feedbackPairs(), "same", Feedback.pair("e5").setRejected("A helpful answer.").build()), "same", Reason.SAME_RESPONSES, t.feedbackPairs());
      bad(feedback.avro(t.feedbackPairs(), "too-long", Feedback.pair("e6").setChosen("x".repeat(65_537)).build()), "too-long", Reason.TOO_LONG, t.feedbackPairs());
      valid(feedback.json(t.feedbackPairs(), "k", Feedback.pair("pair-3").build()), "pair-3");
      bad(feedback.avro(t.feedbackPairs(), "negative-token", Feedback.pair("e7").setChosenIds(List.of(1, -2)).build()), "negative-token", Reason.BAD_TOKEN, t.feedbackPairs());
      bad(feedback.avro(t.feedbackPairs(), "zero-weight", Feedback.pair("e8").setWeight(0).build()), "zero-weight", Reason.BAD_WEIGHT, t.feedbackPairs());
      bad(feedback.avro(t.feedbackPairs(), "tomorrow", Feedback.pair("e9").setEventTime(now + Duration.ofDays(1).toMillis()).build()),
          "tomorrow", Reason.BAD_EVENT_TIME, t.feedbackPairs());
      bad(feedback.bytes(t.feedbackPairs(), "huge", new byte[Pipeline.MAX_RECORD_BYTES + 1]), "huge", Reason.TOO_LARGE, t.feedbackPairs());
      bad(feedback.bytes(t.feedbackPairs(), "robot-role", ("{\"event_id\": \"e13\", \"prompt\": [{\"role\": \"robot\", \"content\": \"hi\"}],"
          + " \"chosen\": \"a\", \"rejected\": \"b\"}").getBytes(UTF_8)), "robot-role", Reason.BAD_ROLE, t.feedbackPairs());
      valid(feedback.avro(t.feedbackPairs(), "k", Feedback.pair("pair-4").build()), "pair-4");
      valid(feedback.avro(t.feedbackPairs(), "k", Feedback.pair("pair-5").build()), "pair-5");

      valid(feedback.avro(t.feedbackRankings(), "k", Feedback.ranking("ranking-0").build()), "ranking-0");
      bad(feedback.avro(t.feedbackRankings(), "one-response", Feedback.ranking("e10").setResponses(List.of("Same.", "Same.")).build()),
          "one-response", Reason.TOO_FEW_RESPONSES, t.feedbackRankings());
      valid(feedback.json(t.feedbackRankings(), "k", Feedback.ranking("ranking-1").build()), "ranking-1");
      valid(feedback.avro(t.feedbackRankings(), "k", Feedback.ranking("ranking-2").build()), "ranking-2");

      // two ratings of one prompt pair up once a rating sent after their window closes it; the
      // closing rating stays alone in its own window and makes no pair
      valid(feedback.avro(t.feedbackRatings(), "rated", Feedback.rating("rating-a", "rated", "a", 5, now).build()), "rating-a");
      bad(feedback.avro(t.feedbackRatings(), "off-scale", Feedback.rating("e11", "off-scale", "a", 7, now).build()), "off-scale", Reason.BAD_SCORE, t.feedbackRatings());
      valid(feedback.avro(t.feedbackRatings(), "rated", Feedback.rating("rating-b", "rated", "b", 2, now).build()), "rating-b");
      feedback.avro(t.feedbackRatings(), "later", Feedback.rating("closes-the-window", "later", "a", 3, Pipeline.ratingWindowsOver(now)).build()).get();
      bad(feedback.avro(t.feedbackRatings(), "late", Feedback.rating("e12", "late", "a", 4, now).build()), "late", Reason.LATE_RATING, t.feedbackRatings());
      long crowdedAt = System.currentTimeMillis();
      for (int i = 0; i < Pipeline.MAX_RATINGS_PER_PROMPT; i++) { // one response rated by several users: no pair, but the window is full
        feedback.avro(t.feedbackRatings(), "crowded", Feedback.rating("crowded-" + i, "crowded", "a", 4, crowdedAt).build()).get();
      }
      bad(feedback.avro(t.feedbackRatings(), "crowded", Feedback.rating("e13", "crowded", "a", 4, crowdedAt).build()), "crowded",
          Reason.TOO_MANY_RATINGS, t.feedbackRatings());

      long bulkyAt = System.currentTimeMillis();
      feedback.avro(t.feedbackRatings(), "bulky", Feedback.rating("bulky-0", "bulky", "a", 4, bulkyAt).setResponse("x".repeat(60_000)).build()).get();
      bad(feedback.avro(t.feedbackRatings(), "bulky", Feedback.rating("e14", "bulky", "b", 2, bulkyAt).setResponse("y".repeat(60_000)).build()), "bulky",
          Reason.WINDOW_TOO_LARGE, t.feedbackRatings());

      assertThat(reasonsSent).as("a bad event for every reason").isEqualTo(EnumSet.allOf(Reason.class));
      await().atMost(PATIENCE).untilAsserted(() -> assertThat(pipeline.deadLetters()).extracting(MalformedInputTest::describe)
          .containsExactlyInAnyOrderElementsOf(expectedDeadLetters));
      await().atMost(PATIENCE).untilAsserted(() -> assertThat(pipeline.preferencePairs().stream().flatMap(MalformedInputTest::feedbackIds))
          .containsExactlyInAnyOrderElementsOf(expectedValid));
      pipeline.awaitEveryPairTrainedOnce();
      pipeline.assertRunning();
    }
  }

  private void valid(Future<RecordMetadata> sent, String eventId) throws Exception {
    sent.get();
    expectedValid.add(eventId);
  }

  private void bad(Future<RecordMetadata> sent, String key, Reason reason, String topic) throws Exception {
    sent.get();
    reasonsSent.add(reason);
    expectedDeadLetters.add(key + " " + reason.code() + " from " + topic);
  }

  /** "key reason from topic", from the dead letter's key and headers. */
  private static String describe(ConsumerRecord<byte[], byte[]> letter) {
    return new String(letter.key(), UTF_8) + " " + header(letter, DeadLetter.REASON) + " from " + header(letter, DeadLetter.SOURCE_TOPIC);
  }

  private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
    return new String(r.headers().lastHeader(name).value(), UTF_8);
  }

  /** The feedback events a record on preference.pairs stands for: its own event id, or the ratings it was paired from. */
  private static Stream<String> feedbackIds(ConsumerRecord<String, SpecificRecord> r) {
    if (r.value() instanceof RankedResponses ranking) return Stream.of(ranking.getEventId());
    PreferencePair pair = (PreferencePair) r.value();
    return "ratings".equals(pair.getSource()) ? Arrays.stream(pair.getMetadata().get("rating_ids").split(",")) : Stream.of(pair.getEventId());
  }
}
