package io.prefstream.trainer.service;

import io.prefstream.trainer.dpo.PreferenceExample;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Splits a batch into micro-batches whose computed size stays under a token budget, so memory is
 * bounded whatever the lengths. An example is one row of its prompt and all its responses (see
 * {@code PreferenceBatch}), rows padded to the micro-batch's longest: the size is examples ×
 * longest row. Examples are taken longest first, so rows of similar length share a micro-batch and
 * little is spent on padding; the update is a sum over examples, so their order does not change
 * it. Examples with different numbers of responses go to different micro-batches. An example
 * larger than the budget forms one alone.
 */
final class MicroBatches {
  private MicroBatches() {}

  static List<List<PreferenceExample>> of(List<PreferenceExample> batch, int tokenBudget) {
    Map<Integer, List<PreferenceExample>> byResponses = new LinkedHashMap<>();
    batch.forEach(e -> byResponses.computeIfAbsent(e.responses().size(), k -> new ArrayList<>()).add(e));
    List<List<PreferenceExample>> out = new ArrayList<>();
    for (List<PreferenceExample> group : byResponses.values()) {
      group.sort(Comparator.comparingInt(MicroBatches::rowLength).reversed());
      List<PreferenceExample> current = new ArrayList<>();
      int longest = 0;
      for (PreferenceExample e : group) {
        int nextLongest = Math.max(longest, rowLength(e));
        if (!current.isEmpty() && (long) (current.size() + 1) * nextLongest > tokenBudget) {
          out.add(current);
          current = new ArrayList<>();
          nextLongest = rowLength(e);
        }
        current.add(e);
        longest = nextLongest;
      }
      if (!current.isEmpty()) out.add(current);
    }
    return out;
  }

  /** The prompt once, then every response. */
  private static int rowLength(PreferenceExample e) {
    return e.prompt().length + e.responses().stream().mapToInt(r -> r.length).sum();
  }
}
