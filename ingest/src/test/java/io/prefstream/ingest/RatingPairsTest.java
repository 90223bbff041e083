package io.prefstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.ResponseRating;
import io.prefstream.schemas.ScoreScale;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

class RatingPairsTest {

  private static PromptRatings ratings(double... stars) {
    PromptRatings ratings = new PromptRatings();
    for (int i = 0; i < stars.length; i++) {
      ratings.add(ResponseRating.newBuilder().setEventId("r" + i).setPromptId("p").setPrompt("q").setResponseId("resp" + i)
          .setResponse("text " + i).setScore(stars[i]).setScale(ScoreScale.STARS_5).setEventTime(1).build());
    }
    return ratings;
  }

  private static double gap(PreferencePair p) {
    return Double.parseDouble(p.getMetadata().get("chosen_mean_score")) - Double.parseDouble(p.getMetadata().get("rejected_mean_score"));
  }

  /** The gaps of the k widest pairs, by looking at all n^2: what the best-first walk must match. */
  private static List<Double> widestGapsByBruteForce(double[] stars, int k) {
    List<Double> gaps = new ArrayList<>();
    for (int i = 0; i < stars.length; i++) {
      for (int j = 0; j < stars.length; j++) {
        if (stars[i] > stars[j]) gaps.add((stars[i] - 1) / 4 - (stars[j] - 1) / 4);
      }
    }
    gaps.sort(Comparator.reverseOrder());
    return gaps.subList(0, Math.min(k, gaps.size()));
  }

  @RepeatedTest(20)
  void widestGapsFirst_sameAsLookingAtEveryPair() {
    Random random = new Random();
    double[] stars = random.ints(2 + random.nextInt(12), 1, 6).asDoubleStream().toArray();
    int k = 1 + random.nextInt(20);
    List<PreferencePair> pairs = RatingPairs.of("p", 0, ratings(stars), k);
    assertThat(pairs).extracting(RatingPairsTest::gap).usingElementComparator((a, b) -> Math.abs(a - b) < 1e-12 ? 0 : Double.compare(a, b))
        .containsExactlyElementsOf(widestGapsByBruteForce(stars, k));
    assertThat(pairs).allSatisfy(p -> assertThat(gap(p)).isPositive());
    assertThat(pairs).extracting(PreferencePair::getEventId).doesNotHaveDuplicates();
  }

  @Test
  void manyResponses_fewPairs_widestFirst() {
    double[] stars = new double[2_000];
    for (int i = 0; i < stars.length; i++) stars[i] = 1 + (i % 5);
    List<PreferencePair> pairs = RatingPairs.of("p", 0, ratings(stars), 10);
    assertThat(pairs).hasSize(10).allSatisfy(p -> assertThat(gap(p)).isEqualTo(1.0)); // 5 stars over 1 star
  }
}
