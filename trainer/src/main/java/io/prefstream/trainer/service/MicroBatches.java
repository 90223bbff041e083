package io.prefstream.trainer.service;

import io.prefstream.trainer.dpo.LabelledExample;
import io.prefstream.trainer.dpo.PreferenceExample;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Splits a batch into micro-batches whose padded size (examples × responses × longest sequence)
 * stays under a token budget, so memory is bounded whatever the lengths; examples with different
 * numbers of responses go to different micro-batches. An example larger than the budget forms
 * one alone.
 */
final class MicroBatches {
  private MicroBatches() {}

  static List<List<PreferenceExample>> of(List<PreferenceExample> batch, int tokenBudget) {
    Map<Integer, List<PreferenceExample>> byResponses = new LinkedHashMap<>();
    batch.forEach(e -> byResponses.computeIfAbsent(e.responses().size(), k -> new ArrayList<>()).add(e));
    List<List<PreferenceExample>> out = new ArrayList<>();
    for (List<PreferenceExample> group : byResponses.values()) {
      List<PreferenceExample> current = new ArrayList<>();
      int longest = 0;
      for (PreferenceExample e : group) {
        int nextLongest = Math.max(longest, e.longestSequence());
        if (!current.isEmpty() && (long) (current.size() + 1) * e.responses().size() * nextLongest > tokenBudget) {
          out.add(current);
          current = new ArrayList<>();
          nextLongest = e.longestSequence();
        }
        current.add(e);
        longest = nextLongest;
      }
      if (!current.isEmpty()) out.add(current);
    }
    return out;
  }

  /** Labelled responses in micro-batches of at most {@code tokenBudget} padded tokens (examples × longest sequence). */
  static List<List<LabelledExample>> ofLabelled(List<LabelledExample> batch, int tokenBudget) {
    List<List<LabelledExample>> out = new ArrayList<>();
    List<LabelledExample> current = new ArrayList<>();
    int longest = 0;
    for (LabelledExample e : batch) {
      int nextLongest = Math.max(longest, e.tokens());
      if (!current.isEmpty() && (long) (current.size() + 1) * nextLongest > tokenBudget) {
        out.add(current);
        current = new ArrayList<>();
        nextLongest = e.tokens();
      }
      current.add(e);
      longest = nextLongest;
    }
    if (!current.isEmpty()) out.add(current);
    return out;
  }
}
