package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import io.prefstream.trainer.model.CausalLm;

/**
 * log π(y|x) = Σ_t log softmax(logits[t-1])[y_t] over the response tokens, as in the DPO paper's
 * reference code: the logits at position t-1 score token t; prompt and padding are masked out.
 */
public final class SequenceLogProbs {
  private SequenceLogProbs() {}

  /**
   * @return (B, K) float32 log-probabilities of each example's responses, best first. Recorded
   *     for backward when the model's weights need gradients and a gradient collector is open.
   */
  public static NDArray of(CausalLm model, PreferenceBatch batch, LogProbAggregation aggregation) {
    return of(model, batch, aggregation, false);
  }

  /** As {@link #of(CausalLm, PreferenceBatch, LogProbAggregation)}, for a training pass when {@code training}. */
  public static NDArray of(CausalLm model, PreferenceBatch batch, LogProbAggregation aggregation, boolean training) {
    NDArray logits = model.logits(batch.tokenIds(), batch.attentionMask(), training); // (N, T, V)
    long t = logits.getShape().get(1);
    NDArray logProbs = logits.get(new NDIndex(":, 0:{}, :", t - 1)).logSoftmax(2); // (N, T-1, V)
    NDArray targets = batch.tokenIds().get(new NDIndex(":, 1:")).expandDims(2); // (N, T-1, 1)
    NDArray tokenLogProbs = logProbs.gather(targets, 2).squeeze(2); // (N, T-1)
    NDArray summed = tokenLogProbs.mul(batch.responseMask()).sum(new int[] {1}); // (N)
    NDArray perResponse = switch (aggregation) {
      case SUM -> summed;
      case MEAN -> summed.div(batch.responseMask().sum(new int[] {1}));
    };
    return perResponse.reshape(batch.examples(), batch.responsesPerExample()); // (B, K)
  }
}
