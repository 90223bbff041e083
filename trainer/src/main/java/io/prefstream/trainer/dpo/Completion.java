package io.prefstream.trainer.dpo;

/**
 * One response as the continuation of its prompt, in token ids: the unit that likelihood training
 * and the scoring of sampled responses feed to {@link SequenceLogProbs} (as a batch of K = 1).
 */
public record Completion(int[] prompt, int[] response) {
  public Completion {
    if (prompt.length == 0) throw new IllegalArgumentException("a completion needs a prompt of at least one token");
    if (response.length == 0) throw new IllegalArgumentException("a completion needs a response of at least one token");
  }

  int length() {
    return prompt.length + response.length;
  }
}
