package io.prefstream.trainer.dpo;

/**
 * One example's log-probabilities under the policy and the reference, best response first, and
 * its loss.
 */
public record PreferenceScore(String id, double[] policyLogProbs, double[] referenceLogProbs, double loss, double beta) {

  /** β(log π − log π_ref) of response k. */
  public double reward(int k) {
    return beta * (policyLogProbs[k] - referenceLogProbs[k]);
  }
}
