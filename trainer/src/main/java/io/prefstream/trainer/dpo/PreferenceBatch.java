package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * B examples of K responses each as one right-padded batch of N = B·K sequences, so that every
 * response goes through the model in one forward pass. Row {@code b·K + k} is response k of
 * example b.
 *
 * @param tokenIds (N, T) int64: prompt then response, then padding (id 0)
 * @param attentionMask (N, T) int64: 1 on real tokens
 * @param responseMask (N, T-1) float32: 1 where the target token t+1 belongs to the response, the
 *     positions whose log-probabilities are summed (logits at t score token t+1)
 * @param weights (B) float32 example weights
 * @param scored the positions {@code responseMask} marks, with their target tokens, on the host
 */
public record PreferenceBatch(
    NDArray tokenIds,
    NDArray attentionMask,
    NDArray responseMask,
    NDArray weights,
    int examples,
    int responsesPerExample,
    ScoredPositions scored) {

  /** Builds the batch on {@code manager}; all examples must have the same number of responses. */
  public static PreferenceBatch of(List<PreferenceExample> examples, NDManager manager) {
    if (examples.isEmpty()) throw new IllegalArgumentException("a batch needs at least one example");
    int k = examples.get(0).responses().size();
    List<Completion> rows = new ArrayList<>(examples.size() * k);
    float[] weights = new float[examples.size()];
    for (int b = 0; b < examples.size(); b++) {
      PreferenceExample e = examples.get(b);
      if (e.responses().size() != k) {
        throw new IllegalArgumentException("example " + e.id() + " has " + e.responses().size() + " responses, the batch " + k);
      }
      weights[b] = (float) e.weight();
      for (int[] response : e.responses()) rows.add(new Completion(e.prompt(), response));
    }
    return padded(rows, weights, k, manager);
  }

  /** Each completion as an example of its own (K = 1) and weight 1: for likelihoods, not preferences. */
  public static PreferenceBatch ofCompletions(List<Completion> completions, NDManager manager) {
    if (completions.isEmpty()) throw new IllegalArgumentException("a batch needs at least one completion");
    float[] weights = new float[completions.size()];
    Arrays.fill(weights, 1f);
    return padded(completions, weights, 1, manager);
  }

  private static PreferenceBatch padded(List<Completion> rows, float[] weights, int k, NDManager manager) {
    int n = rows.size();
    int t = rows.stream().mapToInt(Completion::length).max().orElseThrow();
    long[] ids = new long[n * t];
    long[] mask = new long[n * t];
    float[] scored = new float[n * (t - 1)];
    int responseTokens = rows.stream().mapToInt(c -> c.response().length).sum();
    long[] positions = new long[responseTokens];
    long[] targets = new long[responseTokens];
    int[] rowStarts = new int[n + 1];
    for (int row = 0; row < n; row++) {
      int[] prompt = rows.get(row).prompt();
      int[] response = rows.get(row).response();
      int p = prompt.length;
      for (int j = 0; j < p; j++) ids[row * t + j] = prompt[j];
      int start = rowStarts[row];
      for (int j = 0; j < response.length; j++) {
        ids[row * t + p + j] = response[j];
        scored[row * (t - 1) + p + j - 1] = 1f; // the logits at p+j-1 score response token j
        positions[start + j] = (long) row * t + p + j - 1;
        targets[start + j] = response[j];
      }
      rowStarts[row + 1] = start + response.length;
      for (int j = 0; j < p + response.length; j++) mask[row * t + j] = 1;
    }
    return new PreferenceBatch(
        manager.create(ids, new Shape(n, t)),
        manager.create(mask, new Shape(n, t)),
        manager.create(scored, new Shape(n, t - 1)),
        manager.create(weights, new Shape(weights.length)),
        weights.length,
        k,
        new ScoredPositions(positions, targets, rowStarts));
  }

  /** Real tokens in the batch. */
  public long tokens() {
    return attentionMask.sum().getLong();
  }
}
