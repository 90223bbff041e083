package io.prefstream.trainer.service;

import io.prefstream.trainer.dpo.LabelledExample;
import io.prefstream.trainer.dpo.PreferenceExample;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * Splits a batch into micro-batches whose computed size stays under a token budget, so memory is
 * bounded whatever the lengths. An example is its prompt and all its responses in one row (see
 * {@code PreferenceBatch}), rows padded to the micro-batch's longest example: the size is at most
 * examples × longest example (packing puts short examples together in fewer rows). Examples are taken longest first, so rows of similar length share a micro-batch and
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
      group.sort(Comparator.comparingInt(PreferenceExample::rowTokens).reversed());
      out.addAll(packed(group, PreferenceExample::rowTokens, tokenBudget));
    }
    return out;
  }

  /** Labelled responses, one sequence each. */
  static List<List<LabelledExample>> ofLabelled(List<LabelledExample> batch, int tokenBudget) {
    return packed(batch, LabelledExample::tokens, tokenBudget);
  }

  /** Consecutive examples of one row each, as many a micro-batch as the budget takes. */
  private static <T> List<List<T>> packed(List<T> examples, ToIntFunction<T> rowLength, int tokenBudget) {
    List<List<T>> out = new ArrayList<>();
    List<T> current = new ArrayList<>();
    int longest = 0;
    for (T e : examples) {
      int nextLongest = Math.max(longest, rowLength.applyAsInt(e));
      if (!current.isEmpty() && (long) (current.size() + 1) * nextLongest > tokenBudget) {
        out.add(current);
        current = new ArrayList<>();
        nextLongest = rowLength.applyAsInt(e);
      }
      current.add(e);
      longest = nextLongest;
    }
    if (!current.isEmpty()) out.add(current);
    return out;
  }
}
