package io.prefstream.ingest;

import io.prefstream.schemas.PreferencePair;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Turns one prompt's window of ratings into pairs: every two responses with different mean scores
 * make a pair, higher over lower; ties make none; the widest score gaps come first, up to the cap.
 * Each pair names the ratings it came from in {@code metadata.rating_ids}.
 *
 * <p>The n responses are sorted by mean score once; with the scores s_0 >= ... >= s_{n-1}, the
 * widest gap is (0, n-1), and every other pair (a, b) is narrower than (a, b+1) and (a-1, b). A
 * best-first walk from (0, n-1) over a priority queue therefore yields pairs widest first after
 * looking at O(k) of them for k pairs: O(n log n + k log k), never all n^2 candidates.
 */
final class RatingPairs {
  static final String SOURCE = "ratings";

  private RatingPairs() {}

  static List<PreferencePair> of(String promptId, long windowStart, PromptRatings ratings, int maxPairs) {
    List<Map.Entry<String, PromptRatings.Rated>> byScore = new ArrayList<>(ratings.responses.entrySet());
    byScore.sort(Comparator.comparingDouble((Map.Entry<String, PromptRatings.Rated> e) -> e.getValue().mean()).reversed());
    record Candidate(int better, int worse, double gap) {}
    PriorityQueue<Candidate> widest = new PriorityQueue<>(Comparator.comparingDouble(Candidate::gap).reversed()
        .thenComparingInt(Candidate::better).thenComparingInt(Candidate::worse));
    Set<Long> seen = new HashSet<>();
    int n = byScore.size();
    BiConsumer<Integer, Integer> offer = (a, b) -> {
      if (a < b && seen.add((long) a * n + b)) {
        widest.add(new Candidate(a, b, byScore.get(a).getValue().mean() - byScore.get(b).getValue().mean()));
      }
    };
    offer.accept(0, n - 1);
    List<Candidate> picked = new ArrayList<>();
    while (picked.size() < maxPairs && !widest.isEmpty() && widest.peek().gap() > 0) {
      Candidate c = widest.poll();
      picked.add(c);
      offer.accept(c.better() + 1, c.worse());
      offer.accept(c.better(), c.worse() - 1);
    }
    List<PreferencePair> pairs = new ArrayList<>();
    for (Candidate c : picked) {
      Map.Entry<String, PromptRatings.Rated> better = byScore.get(c.better());
      Map.Entry<String, PromptRatings.Rated> worse = byScore.get(c.worse());
      PromptRatings.Rated chosen = better.getValue();
      PromptRatings.Rated rejected = worse.getValue();
      List<String> ratingIds = new ArrayList<>(chosen.ratingIds());
      ratingIds.addAll(rejected.ratingIds());
      pairs.add(PreferencePair.newBuilder()
          .setEventId(SOURCE + ":" + promptId + ":" + windowStart + ":" + better.getKey() + ">" + worse.getKey())
          .setPromptId(promptId)
          .setPrompt(ratings.prompt)
          .setPromptIds(ratings.promptIds)
          .setPromptMessages(PromptRatings.Turn.messages(ratings.promptMessages))
          .setChosen(chosen.text())
          .setChosenIds(chosen.ids())
          .setChosenMessages(PromptRatings.Turn.messages(chosen.messages()))
          .setRejected(rejected.text())
          .setRejectedIds(rejected.ids())
          .setRejectedMessages(PromptRatings.Turn.messages(rejected.messages()))
          .setSource(SOURCE)
          .setEventTime(Math.max(chosen.newestEventTime(), rejected.newestEventTime()))
          .setMetadata(Map.of(
              "rating_ids", String.join(",", ratingIds),
              "chosen_response_id", better.getKey(),
              "rejected_response_id", worse.getKey(),
              "chosen_mean_score", String.valueOf(chosen.mean()),
              "rejected_mean_score", String.valueOf(rejected.mean())))
          .build());
    }
    return pairs;
  }
}
