package io.prefstream.trainer.dpo;

import java.util.List;

/**
 * One training example in token ids: a prompt and K >= 2 responses, best first (K = 2 is a
 * chosen/rejected pair).
 *
 * <p>Each response is scored as the continuation of the prompt: prompt and response ids are
 * concatenated with nothing in between; callers that tokenize text append the tokenizer's EOS to
 * each response (see {@code TextTokenizer}).
 *
 * @param weight finite and positive; scales this example's loss
 */
public record PreferenceExample(String id, int[] prompt, List<int[]> responses, double weight) implements TrainingExample {
  public PreferenceExample {
    if (prompt.length == 0) throw new IllegalArgumentException("example " + id + ": the prompt has no tokens");
    if (responses.size() < 2) throw new IllegalArgumentException("example " + id + ": needs at least 2 responses, got " + responses.size());
    for (int k = 0; k < responses.size(); k++) {
      if (responses.get(k).length == 0) throw new IllegalArgumentException("example " + id + ": response " + k + " has no tokens");
    }
    if (!(weight > 0) || Double.isInfinite(weight)) throw new IllegalArgumentException("example " + id + ": weight must be finite and > 0, got " + weight);
    responses = List.copyOf(responses);
  }

  /** A chosen/rejected pair of weight 1. */
  public static PreferenceExample pair(String id, int[] prompt, int[] chosen, int[] rejected) {
    return new PreferenceExample(id, prompt, List.of(chosen, rejected), 1.0);
  }

  /** Tokens of the longest prompt + response sequence. */
  public int longestSequence() {
    return responses.stream().mapToInt(r -> prompt.length + r.length).max().orElseThrow();
  }

  /** Tokens of the example's row in a shared layout: the prompt once, then every response. */
  public int rowTokens() {
    return prompt.length + responses.stream().mapToInt(r -> r.length).sum();
  }

  /** Tokens of all K sequences together. */
  public int tokens() {
    return responses.stream().mapToInt(r -> prompt.length + r.length).sum();
  }
}
