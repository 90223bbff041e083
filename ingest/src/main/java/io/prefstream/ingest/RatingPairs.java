package io.prefstream.ingest;

import io.prefstream.schemas.PreferencePair;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Turns one prompt's window of ratings into pairs: every two responses with different mean scores
 * make a pair, higher over lower; ties make none; the widest score gaps come first, up to the cap.
 * Each pair names the ratings it came from in {@code metadata.rating_ids}.
 */
final class RatingPairs {
  static final String SOURCE = "ratings";

  private RatingPairs() {}

  static List<PreferencePair> of(String promptId, long windowStart, PromptRatings ratings, int maxPairs) {
    List<Map.Entry<String, PromptRatings.Rated>> rated = new ArrayList<>(ratings.responses.entrySet());
    record Candidate(Map.Entry<String, PromptRatings.Rated> better, Map.Entry<String, PromptRatings.Rated> worse, double gap) {}
    List<Candidate> candidates = new ArrayList<>();
    for (int i = 0; i < rated.size(); i++) {
      for (int j = i + 1; j < rated.size(); j++) {
        double a = rated.get(i).getValue().mean();
        double b = rated.get(j).getValue().mean();
        if (a > b) candidates.add(new Candidate(rated.get(i), rated.get(j), a - b));
        else if (b > a) candidates.add(new Candidate(rated.get(j), rated.get(i), b - a));
      }
    }
    candidates.sort(Comparator.comparingDouble(Candidate::gap).reversed());
    List<PreferencePair> pairs = new ArrayList<>();
    for (Candidate c : candidates.subList(0, Math.min(maxPairs, candidates.size()))) {
      PromptRatings.Rated chosen = c.better().getValue();
      PromptRatings.Rated rejected = c.worse().getValue();
      List<String> ratingIds = new ArrayList<>(chosen.ratingIds());
      ratingIds.addAll(rejected.ratingIds());
      pairs.add(PreferencePair.newBuilder()
          .setEventId(SOURCE + ":" + promptId + ":" + windowStart + ":" + c.better().getKey() + ">" + c.worse().getKey())
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
              "chosen_response_id", c.better().getKey(),
              "rejected_response_id", c.worse().getKey(),
              "chosen_mean_score", String.valueOf(chosen.mean()),
              "rejected_mean_score", String.valueOf(rejected.mean())))
          .build());
    }
    return pairs;
  }
}
