package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.prefstream.trainer.model.VocabSlice;
import java.util.Arrays;
import java.util.Optional;

/**
 * The softmax of each position's logits, read one vocabulary slice at a time, so that no array holds
 * a position's logits over the whole vocabulary: the online normaliser (Milakov and Gimelshein 2018,
 * arXiv:1805.02867). Per position it keeps the largest logit so far, m, and s = Σ_v exp(z_v − m) over
 * the slices so far, rescaled whenever m grows; then
 *
 * <pre>
 *   log π(v) = (z_v − m) − log s          m at least every z_v, so s ≥ 1: log s is exact to rounding
 *   log Σ_v π(v)² = log s₂ − 2 log s      s₂ = Σ_v exp(2(z_v − m)), only when asked for (WPO)
 * </pre>
 *
 * and log π(y) is rounded at its own size, not at the largest logit's. Logits must be finite.
 *
 * <p>A slice is read through its own softmax p, one new array and PyTorch's fused kernel: with
 * m_s its largest logit, Σ_v exp(z_v − m_s) = 1/max p (the softmax peaks at the largest logit, at
 * least 1/|slice|, so this is exact to rounding) and Σ_v exp(2(z_v − m_s)) = Σ_v p_v² / (max p)²;
 * π over the slice is p · exp(lse_s − lse), lse_s = m_s − log max p being the slice's own
 * log-normaliser. The running values are (P, 1) arrays on the manager given, updated in place, so
 * slices can be made and freed in scopes of their own.
 */
final class OnlineSoftmax {
  private final long[] targets;
  private final NDArray max;
  private final NDArray sum;
  private final NDArray sumOfSquares;
  private final NDArray targetLogits; // (P)

  /**
   * @param targets each position's target token y
   * @param squares whether to keep s₂ for {@link #logSumOfSquares}
   */
  OnlineSoftmax(long[] targets, boolean squares, NDManager manager) {
    Shape positions = new Shape(targets.length, 1);
    this.targets = targets;
    this.max = manager.full(positions, Float.NEGATIVE_INFINITY);
    this.sum = manager.zeros(positions);
    this.sumOfSquares = squares ? manager.zeros(positions) : null;
    this.targetLogits = manager.zeros(new Shape(targets.length));
  }

  /** Takes in the logits of {@code slice}, (P, |slice|), each slice once; their values only, never their graph. */
  void add(NDArray sliceLogits, VocabSlice slice) {
    try (NDArray logits = sliceLogits.stopGradient()) {
      SliceSoftmax own = SliceSoftmax.of(logits);
      try (NDArray p = own.p()) {
        NDArray grown = max.maximum(own.max());                                  // m'
        NDArray rescale = max.sub(grown).exp();                                  // exp(m − m'): 0 at the first slice
        NDArray sliceScale = own.max().sub(grown).exp().div(own.peak());         // Σ_v exp(z_v − m') over the slice
        sum.muli(rescale).addi(sliceScale);
        if (sumOfSquares != null) {
          NDArray squares = p.muli(p).sum(new int[] {1}, true);                  // Σ p², p spent
          sumOfSquares.muli(rescale.square()).addi(squares.mul(sliceScale.square()));
        }
        max.set(new NDIndex("..."), grown);
      }
      targetsIn(slice).ifPresent(hits -> targetLogits.set(new NDIndex("{}", hits.positions()), logits.get(hits.cells())));
    }
  }

  /** log π(y) at each position, (P, 1), once every slice is in. */
  NDArray targetLogProbs() {
    return targetLogits.reshape(targets.length, 1).sub(max).sub(sum.log());
  }

  /** log Σ_v π(v)², (P, 1), once every slice is in; only when made with squares. */
  NDArray logSumOfSquares() {
    return sumOfSquares.log().sub(sum.log().mul(2));
  }

  /**
   * ∂L/∂z over {@code slice}'s columns, once every slice is in: w_t · (onehot(y_t) − π_t) at each
   * position t, given w_t = ∂L/∂log π(y_t), the gradient of Σ_t w_t · log π_t(y_t). Made in the
   * slice's softmax, a new array.
   *
   * @param logits (P, |slice|) the slice's logits, values
   * @param perPosition (P, 1) w
   * @return (P, |slice|)
   */
  NDArray logitsGradient(NDArray logits, VocabSlice slice, NDArray perPosition) {
    SliceSoftmax own = SliceSoftmax.of(logits);
    // π = p · exp(lse_s − lse), and exp(lse_s − lse) = exp((m_s − m) − log max p − log s) = exp(m_s − m) / (max p · s)
    NDArray toWhole = own.max().sub(max).exp().div(own.peak().mul(sum));
    NDArray gradient = own.p().muli(toWhole.mul(perPosition.neg()));             // −w_t · π_t
    targetsIn(slice).ifPresent(hits -> {
      NDIndex atTargets = hits.cells();
      gradient.set(atTargets, gradient.get(atTargets).add(perPosition.reshape(-1).get(hits.positions()))); // + w_t at y_t
    });
    return gradient;
  }

  /**
   * A slice's own softmax p = exp(z − lse_s), (P, |slice|), its largest logits m_s and max p =
   * exp(m_s − lse_s), (P, 1) each: the softmax peaks at the largest logit.
   */
  private record SliceSoftmax(NDArray p, NDArray max, NDArray peak) {
    static SliceSoftmax of(NDArray logits) {
      NDArray p = logits.softmax(1);
      return new SliceSoftmax(p, logits.max(new int[] {1}, true), p.max(new int[] {1}, true));
    }
  }

  /** The positions whose target lies in {@code slice}; empty when none does. */
  private Optional<Hits> targetsIn(VocabSlice slice) {
    long[] positions = new long[targets.length];
    long[] columns = new long[targets.length];
    int n = 0;
    for (int p = 0; p < targets.length; p++) {
      if (targets[p] >= slice.from() && targets[p] < slice.to()) {
        positions[n] = p;
        columns[n++] = targets[p] - slice.from();
      }
    }
    if (n == 0) return Optional.empty();
    NDManager m = max.getManager();
    return Optional.of(new Hits(m.create(Arrays.copyOf(positions, n)), m.create(Arrays.copyOf(columns, n))));
  }

  /**
   * Positions and their targets' columns in a slice's (P, |slice|) arrays.
   *
   * @param positions (n) int64
   * @param columns (n) int64
   */
  private record Hits(NDArray positions, NDArray columns) {
    /** The targets' cells of a (P, |slice|) array. */
    NDIndex cells() {
      return new NDIndex("{}, {}", positions, columns);
    }
  }
}
