package io.prefstream.trainer.service;

import io.prefstream.trainer.dpo.LabelledExample;
import io.prefstream.trainer.dpo.PreferenceExample;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

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
    for (Map.Entry<Integer, List<PreferenceExample>> group : byResponses.entrySet()) {
      out.addAll(packed(group.getValue(), group.getKey(), PreferenceExample::longestSequence, tokenBudget));
    }
    return out;
  }

  /** Labelled responses, one sequence each. */
  static List<List<LabelledExample>> ofLabelled(List<LabelledExample> batch, int tokenBudget) {
    return packed(batch, 1, LabelledExample::tokens, tokenBudget);
  }

  /** Consecutive examples of {@code rows} sequences each, as many a micro-batch as the budget takes. */
  private static <T> List<List<T>> packed(List<T> examples, int rows, ToIntFunction<T> longestSequence, int tokenBudget) {
    List<List<T>> out = new ArrayList<>();
    List<T> current = new ArrayList<>();
    int longest = 0;
    for (T e : examples) {
      int nextLongest = Math.max(longest, longestSequence.applyAsInt(e));
      if (!current.isEmpty() && (long) (current.size() + 1) * rows * nextLongest > tokenBudget) {
        out.add(current);
        current = new ArrayList<>();
        nextLongest = longestSequence.applyAsInt(e);
      }
      current.add(e);
      longest = nextLongest;
    }
    if (!current.isEmpty()) out.add(current);
    return out;
  }
}
