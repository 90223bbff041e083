package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Scaled dot-product attention (Vaswani et al. 2017, arXiv:1706.03762, Eq. 1) with the mask every
 * architecture shares: softmax(q kᵀ · scale + M) v.
 *
 * <p>M is 0 where query i may see key j ({@link TokenLayout#visible}: causal, real keys, and in a
 * shared-prompt row only the prompt and the query's own response) and {@link #MASKED_SCORE}
 * elsewhere. A finite value, not -∞: a row with every key masked (a padding query) then softmaxes
 * to a uniform, finite row instead of 0/0 = NaN. Padding positions' outputs are never scored, but a
 * NaN there would still poison gradients through the shared matmuls.
 */
final class Attention {

  /** The most negative float32, as Hugging Face's {@code torch.finfo(dtype).min}: exp of it minus any real score is 0. */
  static final float MASKED_SCORE = -Float.MAX_VALUE;

  private Attention() {}

  /**
   * @param visible (B, T, T) boolean, query i may attend to key j
   * @param maskedScore a scalar array holding {@link #MASKED_SCORE}, long-lived
   * @return (B, 1, T, T) float32 additive bias M, owned by the visibility's manager
   */
  static NDArray bias(NDArray visible, NDArray maskedScore) {
    Shape s = visible.getShape();
    NDArray hidden = visible.logicalNot().toType(DataType.FLOAT32, false);       // (B, T, T): 1 where masked
    return hidden.mul(maskedScore).reshape(s.get(0), 1, s.get(1), s.get(2));     // (B, 1, T, T): 0 or MASKED_SCORE
  }

  /**
   * Narrows a mask bias to a sliding window: query i also loses every key j whose position is
   * {@code window} or more before its own, so it sees at most {@code window} keys of its sequence,
   * its own included (Hugging Face's {@code sliding_window_overlay}, kv_idx > q_idx - window).
   * Distances are taken between position ids, not slots, so it combines with any mask that keeps
   * sequences apart.
   *
   * @param bias (B, 1, T, T) from {@link #bias}
   * @param positionIds (B or 1, T) int64, each token's position in its own sequence
   * @return (B, 1, T, T), owned by the bias's manager
   */
  static NDArray slidingWindow(NDArray bias, NDArray positionIds, long window, NDArray maskedScore) {
    long b = positionIds.getShape().get(0);
    long t = positionIds.getShape().get(1);
    NDArray distance = positionIds.reshape(b, t, 1).sub(positionIds.reshape(b, 1, t)); // (B, T, T): pos_i - pos_j
    NDArray tooFar = distance.gte(window).toType(DataType.FLOAT32, false);       // (B, T, T)
    NDArray windowBias = tooFar.mul(maskedScore).reshape(b, 1, t, t);             // (B, 1, T, T): 0 or MASKED_SCORE
    return bias.minimum(windowBias);                                              // no -inf from adding two masks
  }

  /**
   * The tokens' states into the rows attention runs on, (1, N, C) -> (R, T, C): each slot takes its
   * token's state (see {@link TokenLayout.Occupied}). Differentiable; only a reshape when every slot
   * holds a token (the slots are then the tokens, in order).
   *
   * @param slotTokens (R·T) int64 the token of each slot
   */
  static NDArray toRows(NDArray tokens, NDArray slotTokens, long rows, long columns) {
    Shape s = tokens.getShape();
    long c = s.get(2);
    NDArray flat = tokens.reshape(s.get(1), c);                                   // (N, C)
    return (s.get(1) == rows * columns ? flat : flat.get(slotTokens)).reshape(rows, columns, c); // (R, T, C)
  }

  /**
   * The rows' states at the slots that hold tokens, (R, T, C) -> (1, N, C): the inverse of {@link
   * #toRows} on those slots. Differentiable; only a reshape when every slot holds a token.
   *
   * @param tokenSlots (N) int64 the slot of each token, increasing
   */
  static NDArray toTokens(NDArray rows, NDArray tokenSlots) {
    Shape s = rows.getShape();
    long n = tokenSlots.size();
    NDArray flat = rows.reshape(s.get(0) * s.get(1), s.get(2));                   // (R·T, C)
    return (n == s.get(0) * s.get(1) ? flat : flat.get(tokenSlots)).reshape(1, n, s.get(2)); // (1, N, C)
  }

  /** (B, T, H·hs) -> (B, H, T, hs) */
  static NDArray splitHeads(NDArray x, long heads) {
    Shape s = x.getShape();
    return x.reshape(s.get(0), s.get(1), heads, s.get(2) / heads).transpose(0, 2, 1, 3);
  }

  /** (B, H, T, hs) -> (B, T, H·hs) */
  static NDArray mergeHeads(NDArray y) {
    Shape s = y.getShape();
    return y.transpose(0, 2, 1, 3).reshape(s.get(0), s.get(2), s.get(1) * s.get(3));
  }

  /**
   * @param q (B, H, T, hs)
   * @param k (B, H, T, hs)
   * @param v (B, H, T, hs)
   * @param bias (B, 1, T, T) from {@link #bias}
   * @param scale scalar 1/√hs, long-lived
   * @return (B, H, T, hs)
   */
  static NDArray scaledDotProduct(NDArray q, NDArray k, NDArray v, NDArray bias, NDArray scale) {
    // scaling q, (B, H, T, hs), rather than the scores, (B, H, T, T): fewer elements whenever T > hs
    NDArray scores = q.mul(scale).matMul(k.transpose(0, 1, 3, 2)).add(bias);       // (B, H, T, T)
    return scores.softmax(3).matMul(v);                                           // (B, H, T, hs)
  }
}
