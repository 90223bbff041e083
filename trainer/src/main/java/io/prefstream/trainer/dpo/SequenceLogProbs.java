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
   * One forward pass's per-token log-probabilities.
   *
   * @param perToken (N, T-1) log π of each target token; 0 outside the responses
   * @param wpoAligned (N) WPO's length-normalized aligned log-probability of each response, without a
   *     gradient; null unless asked for
   */
  public record TokenLogProbs(NDArray perToken, NDArray wpoAligned) {}

  /**
   * @return (B, K) float32 log-probabilities of each example's responses, best first. Recorded
   *     for backward when the model's weights need gradients and a gradient collector is open.
   */
  public static NDArray of(CausalLm model, PreferenceBatch batch, LogProbAggregation aggregation) {
    return of(model, batch, aggregation, false);
  }

  /** As {@link #of(CausalLm, PreferenceBatch, LogProbAggregation)}, for a training pass when {@code training}. */
  public static NDArray of(CausalLm model, PreferenceBatch batch, LogProbAggregation aggregation, boolean training) {
    NDArray summed = tokens(model, batch, training, false).perToken().sum(new int[] {1}); // (N)
    NDArray perResponse = switch (aggregation) {
      case SUM -> summed;
      case MEAN -> summed.div(batch.responseMask().sum(new int[] {1}));
    };
    return perResponse.reshape(batch.examples(), batch.responsesPerExample()); // (B, K)
  }

  /**
   * The per-token log-probabilities of every row, and with {@code wpo} the aligned log-probability
   * of WPO (Zhou et al. 2024, arXiv:2406.11827, Eq. 2): mean over response tokens of log π(y_t) −
   * log Σ_v π(v)², which makes the weight exp(·) of a sampled-looking response near 1.
   */
  public static TokenLogProbs tokens(CausalLm model, PreferenceBatch batch, boolean training, boolean wpo) {
    NDArray logits = model.logits(batch.tokenIds(), batch.attentionMask(), training); // (N, T, V)
    long t = logits.getShape().get(1);
    NDArray shifted = logits.get(new NDIndex(":, 0:{}, :", t - 1)); // (N, T-1, V)
    NDArray logProbs = shifted.logSoftmax(2);
    NDArray targets = batch.tokenIds().get(new NDIndex(":, 1:")).expandDims(2); // (N, T-1, 1)
    NDArray perToken = logProbs.gather(targets, 2).squeeze(2).mul(batch.responseMask()); // (N, T-1)
    if (!wpo) return new TokenLogProbs(perToken, null);
    NDArray fixed = shifted.stopGradient();
    // log Σ_v π(v)² = lse(2z) − 2·lse(z) for logits z
    NDArray logSumSquares = logSumExp(fixed.add(fixed)).sub(logSumExp(fixed).mul(2)); // (N, T-1)
    NDArray aligned = perToken.stopGradient().sub(logSumSquares).mul(batch.responseMask()).sum(new int[] {1});
    return new TokenLogProbs(perToken, aligned.div(batch.responseMask().sum(new int[] {1})));
  }

  private static NDArray logSumExp(NDArray x) {
    NDArray max = x.max(new int[] {2}, true);
    return x.sub(max).exp().sum(new int[] {2}).log().add(max.squeeze(2));
  }
}
