package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDArray;

/**
 * What the losses read about a batch's responses, each (B, K), best first.
 *
 * @param policy log π of each response, summed over its tokens (LD-DPO-weighted when ld_alpha < 1; see
 *     {@link SequenceLogProbs})
 * @param reference log π_ref likewise; null when the loss needs no reference and none was computed
 * @param tokens the responses' token counts
 * @param wpoWeights WPO's weight of each response, exp(aligned log-prob), without a gradient; null
 *     unless weighting is on
 */
public record ResponseLogProbs(NDArray policy, NDArray reference, NDArray tokens, NDArray wpoWeights) {

  public int examples() {
    return (int) policy.getShape().get(0);
  }

  public int responsesPerExample() {
    return (int) policy.getShape().get(1);
  }
}
