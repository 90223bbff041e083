package io.prefstream.ittests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prefstream.ingest.IngestConfig;
import io.prefstream.schemas.LabelledResponse;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.schemas.ScoreScale;
import io.prefstream.schemas.TrainingMetrics;
import io.prefstream.testkit.KafkaBroker;
import io.prefstream.trainer.service.TrainerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * KTO's path end to end: with {@code ratings.unpaired=true}, single thumbs and clear star ratings go
 * through the ingest topology to LabelledResponse records on the pairs topic, beside pairs,
 * rankings and a pair made of two middling star ratings; one trainer trains every kind from that
 * mixed topic, and its per-step metrics add up to the count of each kind.
 */
class UnpairedFeedbackTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();

  @TempDir Path tmp;

  @Test
  void thumbsAndClearStars_becomeLabelledResponses_trainedWithPairsAndRankings() throws Exception {
    Clients clients = Clients.plaintext(broker.bootstrapServers(), "e2e-unpaired");
    Map<String, String> ingest = Map.of(IngestConfig.RATINGS_UNPAIRED, "true");
    Map<String, String> trainer = Map.of(TrainerConfig.LOG_STEPS, "1"); // a metrics record per step, to add the kinds up
    try (Pipeline pipeline = Pipeline.start("e2e-unpaired", clients, tmp, ingest, trainer); Feedback feedback = new Feedback(clients)) {
      Pipeline.Topics t = pipeline.topics();
      long now = System.currentTimeMillis();
      for (int i = 0; i < 4; i++) feedback.avro(t.feedbackPairs(), "k" + i, Feedback.pair("pair-" + i).build());
      for (int i = 0; i < 2; i++) feedback.json(t.feedbackRankings(), "k" + i, Feedback.ranking("ranking-" + i).build());
      // single thumbs, each to a prompt of its own: up is desirable, down is not
      for (int i = 0; i < 5; i++) {
        feedback.avro(t.feedbackRatings(), "thumb-" + i, thumb("thumb-" + i, i % 2 == 0, now).build());
      }
      // stars at and beyond the thresholds (desirable from 4, undesirable up to 2) are labelled alone
      double[] clear = {5, 4, 2, 1};
      for (int i = 0; i < clear.length; i++) {
        feedback.avro(t.feedbackRatings(), "star-" + i, Feedback.rating("star-" + i, "star-" + i, "a", clear[i], now).build());
      }
      // middling stars still pair up within their prompt's window
      feedback.avro(t.feedbackRatings(), "middling", Feedback.rating("middling-a", "middling", "a", 3.5, now).build());
      feedback.avro(t.feedbackRatings(), "middling", Feedback.rating("middling-b", "middling", "b", 2.5, now).build());
      // a middling rating after the windows are over closes them (labelled ratings never reach the windows); it waits in its own
      feedback.avro(t.feedbackRatings(), "later", Feedback.rating("closes-the-windows", "later", "a", 3, Pipeline.ratingWindowsOver(now)).build()).get();
      feedback.flush();

      // 4 pairs + 1 made from ratings, 2 rankings, 5 thumbs + 4 clear stars labelled: 16, a multiple of the batch
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(pipeline.preferencePairs()).hasSize(16));
      List<SpecificRecord> records = pipeline.preferencePairs().stream().map(r -> r.value()).toList();
      assertThat(records).filteredOn(PreferencePair.class::isInstance).hasSize(5);
      assertThat(records).filteredOn(RankedResponses.class::isInstance).hasSize(2);
      Map<String, Boolean> labels = records.stream().filter(LabelledResponse.class::isInstance).map(LabelledResponse.class::cast)
          .collect(Collectors.toMap(l -> l.getEventId().toString(), LabelledResponse::getDesirable, (a, b) -> a, TreeMap::new));
      assertThat(labels).containsExactlyInAnyOrderEntriesOf(Map.of("thumb-0", true, "thumb-1", false, "thumb-2", true, "thumb-3", false, "thumb-4", true,
          "star-0", true, "star-1", true, "star-2", false, "star-3", false));

      pipeline.awaitEveryPairTrainedOnce();
      pipeline.assertRunning();
      assertThat(pipeline.deadLetters()).as("nothing valid is lost").isEmpty();
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        List<TrainingMetrics> steps = pipeline.trainingMetrics();
        assertThat(sum(steps, "examples/pairs")).isEqualTo(5);
        assertThat(sum(steps, "examples/rankings")).isEqualTo(2);
        assertThat(sum(steps, "examples/labelled")).isEqualTo(9);
      });
      Predicate<TrainingMetrics> labelledStep = m -> m.getMetrics().get("examples/labelled") > 0;
      assertThat(pipeline.trainingMetrics()).filteredOn(labelledStep).as("KTO's z_ref reported where labelled responses trained")
          .allSatisfy(m -> assertThat(m.getMetrics().get("kl")).isNotNull().isGreaterThanOrEqualTo(0.0));
    }
  }

  private static io.prefstream.schemas.ResponseRating.Builder thumb(String id, boolean up, long now) {
    return Feedback.rating(id, id, "a", up ? 1 : 0, now).setScale(ScoreScale.THUMBS);
  }

  private static double sum(List<TrainingMetrics> steps, String metric) {
    return steps.stream().mapToDouble(m -> m.getMetrics().getOrDefault(metric, 0.0)).sum();
  }
}
