package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * What the losses read about a batch's responses, each (B, K), best first.
 *
 * @param policy log π of each response, summed over its tokens (LD-DPO-weighted when ld_alpha < 1)
 * @param reference log π_ref likewise; null when the loss needs no reference and none was computed
 * @param tokens the responses' token counts
 * @param wpoWeights WPO's weight of each response, exp(aligned log-prob), without a gradient; null
 *     unless weighting is on
 */
public record ResponseLogProbs(NDArray policy, NDArray reference, NDArray tokens, NDArray wpoWeights) {

  /**
   * Sums the per-token log-probabilities of one forward pass per model into (B, K).
   *
   * @param reference null: no reference
   * @param ldAlpha LD-DPO (Liu et al. 2024, arXiv:2409.06411): tokens past the shortest of an
   *     example's responses count α times, so length alone earns no reward; 1: plain sums
   */
  public static ResponseLogProbs of(SequenceLogProbs.TokenLogProbs policy, SequenceLogProbs.TokenLogProbs reference,
      PreferenceBatch batch, double ldAlpha) {
    NDArray mask = batch.responseMask(); // (N, T-1)
    NDArray tokenWeights = ldAlpha == 1 ? mask : ldWeights(batch, ldAlpha, mask.getManager());
    Shape bk = new Shape(batch.examples(), batch.responsesPerExample());
    NDArray tokens = mask.sum(new int[] {1}).reshape(bk);
    return new ResponseLogProbs(
        policy.perToken().mul(tokenWeights).sum(new int[] {1}).reshape(bk),
        reference == null ? null : reference.perToken().mul(tokenWeights).sum(new int[] {1}).reshape(bk),
        tokens,
        policy.wpoAligned() == null ? null : policy.wpoAligned().exp().reshape(bk));
  }

  /** 1 on the first min_k |y_k| tokens of each response, α on the rest, 0 off the responses. */
  private static NDArray ldWeights(PreferenceBatch batch, double alpha, NDManager manager) {
    float[] mask = batch.responseMask().toFloatArray();
    int k = batch.responsesPerExample();
    int width = mask.length / (batch.examples() * k);
    float[] weights = new float[mask.length];
    for (int b = 0; b < batch.examples(); b++) {
      int shared = Integer.MAX_VALUE;
      for (int j = 0; j < k; j++) {
        int length = 0;
        for (int t = 0; t < width; t++) length += (int) mask[(b * k + j) * width + t];
        shared = Math.min(shared, length);
      }
      for (int j = 0; j < k; j++) {
        int position = 0;
        for (int t = 0; t < width; t++) {
          int i = (b * k + j) * width + t;
          if (mask[i] == 0) continue;
          position++;
          weights[i] = position <= shared ? 1f : (float) alpha;
        }
      }
    }
    return manager.create(weights, batch.responseMask().getShape());
  }

  public int examples() {
    return (int) policy.getShape().get(0);
  }

  public int responsesPerExample() {
    return (int) policy.getShape().get(1);
  }
}
