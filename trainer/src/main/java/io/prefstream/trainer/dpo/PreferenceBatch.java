package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.prefstream.trainer.model.TokenLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * B examples of K responses each as one batch for one forward pass, the prompt computed once for
 * its K responses. Example b is row b: its prompt, then its K responses one after the other, each
 * response attending to the prompt and to itself only and positioned right after the prompt (a
 * shared-prefix {@link TokenLayout}); rows are right-padded to the longest. Every response so gets
 * the hidden states it would get alone, and backward sends each response's gradient into the
 * shared prompt slots, summed over the responses as in K separate sequences. Response k of example
 * b is scored row {@code b·K + k}.
 *
 * @param layout (B, T) slots: prompt, responses, padding (id 0, attending to nothing)
 * @param weights (B) float32 example weights
 * @param examples B
 * @param responsesPerExample K
 * @param scored where each response's tokens are scored: its first by the prompt's last slot, the
 *     others by the response's own previous slot
 * @param tokens prompt + response tokens summed over the responses, as K separate sequences count
 */
public record PreferenceBatch(
    TokenLayout layout, NDArray weights, int examples, int responsesPerExample, ScoredPositions scored, long tokens) {

  /** Builds the batch on {@code manager}; all examples must have the same number of responses. */
  public static PreferenceBatch of(List<PreferenceExample> examples, NDManager manager) {
    if (examples.isEmpty()) throw new IllegalArgumentException("a batch needs at least one example");
    int k = examples.get(0).responses().size();
    List<int[]> prompts = new ArrayList<>(examples.size());
    List<List<int[]>> responses = new ArrayList<>(examples.size());
    float[] weights = new float[examples.size()];
    for (int b = 0; b < examples.size(); b++) {
      PreferenceExample e = examples.get(b);
      if (e.responses().size() != k) {
        throw new IllegalArgumentException("example " + e.id() + " has " + e.responses().size() + " responses, the batch " + k);
      }
      weights[b] = (float) e.weight();
      prompts.add(e.prompt());
      responses.add(e.responses());
    }
    return build(prompts, responses, weights, k, manager);
  }

  /** Each completion as an example of its own (K = 1) and weight 1: for likelihoods, not preferences. */
  public static PreferenceBatch ofCompletions(List<Completion> completions, NDManager manager) {
    if (completions.isEmpty()) throw new IllegalArgumentException("a batch needs at least one completion");
    float[] weights = new float[completions.size()];
    Arrays.fill(weights, 1f);
    List<int[]> prompts = completions.stream().map(Completion::prompt).toList();
    List<List<int[]>> responses = completions.stream().map(c -> List.of(c.response())).toList();
    return build(prompts, responses, weights, 1, manager);
  }

  private static PreferenceBatch build(List<int[]> prompts, List<List<int[]>> responses, float[] weights, int k, NDManager manager) {
    int b = prompts.size();
    int t = 0;
    int scoredTotal = 0;
    int span = 0;
    long tokens = 0;
    for (int row = 0; row < b; row++) {
      int p = prompts.get(row).length;
      int length = p;
      for (int[] r : responses.get(row)) {
        length += r.length;
        scoredTotal += r.length;
        span = Math.max(span, p + r.length);
        tokens += p + r.length;
      }
      t = Math.max(t, length);
    }
    long[] ids = new long[b * t];
    long[] positionIds = new long[b * t];
    boolean[] visible = new boolean[b * t * t];
    long[] positions = new long[scoredTotal];
    long[] targets = new long[scoredTotal];
    int[] rowStarts = new int[b * k + 1];
    int scoredRow = 0;
    for (int row = 0; row < b; row++) {
      int[] prompt = prompts.get(row);
      int p = prompt.length;
      int base = row * t;
      for (int i = 0; i < p; i++) {
        ids[base + i] = prompt[i];
        positionIds[base + i] = i;
        Arrays.fill(visible, (base + i) * t, (base + i) * t + i + 1, true); // the prompt up to itself
      }
      int offset = p;
      for (int[] response : responses.get(row)) {
        int start = rowStarts[scoredRow];
        for (int j = 0; j < response.length; j++) {
          int slot = offset + j;
          ids[base + slot] = response[j];
          positionIds[base + slot] = p + j;
          Arrays.fill(visible, (base + slot) * t, (base + slot) * t + p, true);                // the prompt
          Arrays.fill(visible, (base + slot) * t + offset, (base + slot) * t + slot + 1, true); // its response up to itself
          positions[start + j] = base + (j == 0 ? p - 1 : slot - 1); // the slot before scores token j
          targets[start + j] = response[j];
        }
        rowStarts[++scoredRow] = start + response.length;
        offset += response.length;
      }
    }
    TokenLayout layout = new TokenLayout(
        manager.create(ids, new Shape(b, t)), manager.create(positionIds, new Shape(b, t)), manager.create(visible, new Shape(b, t, t)), span);
    return new PreferenceBatch(layout, manager.create(weights, new Shape(b)), b, k, new ScoredPositions(positions, targets, rowStarts), tokens);
  }

  /** (B, K) float32: the number of tokens of each response. */
  public NDArray responseLengths() {
    float[] lengths = new float[scored.rows()];
    for (int r = 0; r < lengths.length; r++) lengths[r] = scored.count(r, r + 1);
    return weights.getManager().create(lengths, new Shape(examples, responsesPerExample));
  }
}
