package io.prefstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.schemas.ChatMessage;
import io.prefstream.schemas.LabelledResponse;
import io.prefstream.schemas.ResponseRating;
import io.prefstream.schemas.ScoreScale;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ratings.unpaired=true: single thumbs and clear star ratings become KTO's labelled responses at once. */
class UnpairedRatingsTest {
  private static final Instant T0 = Instant.parse("2026-11-01T12:00:00Z");
  @TempDir Path stateDir;

  private static ResponseRating rating(String id, String response, double score, ScoreScale scale) {
    return ResponseRating.newBuilder(IngestTopologyTest.rating(id, response, score, scale)).setEventTime(T0.toEpochMilli()).build();
  }

  @Test
  void singleRatings_becomeLabelledResponses_andTheMiddleStarsStillPairUp() {
    try (TopologyFixture f = new TopologyFixture(stateDir, T0, Map.of(IngestConfig.RATINGS_UNPAIRED, "true"))) {
      f.ratingsIn.pipeInput(f.avro("feedback.ratings", rating("up", "a", 1, ScoreScale.THUMBS)));
      f.ratingsIn.pipeInput(f.avro("feedback.ratings", rating("down", "b", 0, ScoreScale.THUMBS)));
      f.ratingsIn.pipeInput(f.avro("feedback.ratings", rating("five", "c", 5, ScoreScale.STARS_5)));
      f.ratingsIn.pipeInput(f.avro("feedback.ratings", rating("two", "d", 2, ScoreScale.STARS_5)));
      f.ratingsIn.pipeInput(f.avro("feedback.ratings", rating("three", "e", 3, ScoreScale.STARS_5)));

      List<TestRecord<String, SpecificRecord>> out = f.out.readRecordsToList();
      assertThat(out).hasSize(4).allMatch(r -> r.value() instanceof LabelledResponse);
      assertThat(out).extracting(r -> ((LabelledResponse) r.value()).getEventId()).containsExactly("up", "down", "five", "two");
      assertThat(out).extracting(r -> ((LabelledResponse) r.value()).getDesirable()).containsExactly(true, false, true, false);
      LabelledResponse up = (LabelledResponse) out.get(0).value();
      assertThat(up.getPrompt()).isEqualTo("Say hi");
      assertThat(up.getResponse()).isEqualTo("text of a");
      assertThat(up.getSource()).isEqualTo("ratings");
      assertThat(up.getMetadata()).containsEntry("response_id", "a").containsEntry("scale", "THUMBS");
      assertThat(out.get(0).key()).isEqualTo("p1");
      assertThat(f.dlq.isEmpty()).isTrue();
    }
  }

  @Test
  void chatRating_keepsItsConversation() {
    try (TopologyFixture f = new TopologyFixture(stateDir, T0, Map.of(IngestConfig.RATINGS_UNPAIRED, "true"))) {
      String json = "{\"event_id\": \"chat-up\", \"prompt_id\": \"p1\", \"response_id\": \"a\", \"score\": 1, \"scale\": \"THUMBS\", "
          + "\"event_time\": " + T0.toEpochMilli() + ", \"prompt\": [{\"role\": \"user\", \"content\": \"Say hi\"}], "
          + "\"response\": [{\"role\": \"assistant\", \"content\": \"Hi!\"}]}";
      f.ratingsIn.pipeInput(json.getBytes(StandardCharsets.UTF_8));

      LabelledResponse up = (LabelledResponse) f.out.readValue();
      assertThat(up.getPrompt()).isNull();
      assertThat(up.getPromptMessages()).containsExactly(new ChatMessage("user", "Say hi"));
      assertThat(up.getResponseMessages()).containsExactly(new ChatMessage("assistant", "Hi!"));
      assertThat(f.dlq.isEmpty()).isTrue();
    }
  }

  @Test
  void off_byDefault_ratingsOnlyPairUp() {
    try (TopologyFixture f = new TopologyFixture(stateDir, T0, Map.of())) {
      f.ratingsIn.pipeInput(f.avro("feedback.ratings", rating("up", "a", 1, ScoreScale.THUMBS)));
      assertThat(f.out.isEmpty()).isTrue();
    }
  }
}
