package io.prefstream.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.Collection;

/**
 * Scales all gradients together so that their joint L2 norm is at most {@code maxNorm}, as
 * PyTorch's {@code clip_grad_norm_}: g ← g · min(1, maxNorm / (‖g‖ + 1e-6)). Unlike DJL's
 * per-element {@code optClipGrad}, this keeps the update's direction.
 */
public final class GlobalNormClipping {
  private static final double EPS = 1e-6;
  private final double maxNorm;

  /** @param maxNorm the largest allowed norm; infinity turns clipping off (the norm is still measured) */
  public GlobalNormClipping(double maxNorm) {
    if (!(maxNorm > 0)) throw new IllegalArgumentException("max grad norm must be > 0, got " + maxNorm);
    this.maxNorm = maxNorm;
  }

  /** The joint L2 norm of the gradients, before clipping. */
  public static double norm(Collection<NDArray> gradients) {
    if (gradients.isEmpty()) return 0;
    // ‖g‖² per tensor as g·g (no squared copy), and one transfer to the host for all of them
    try (NDScope scope = new NDScope()) {
      NDList squares = new NDList(gradients.size());
      for (NDArray g : gradients) {
        NDArray flat = g.reshape(-1);
        squares.add(flat.dot(flat));
      }
      return Math.sqrt(NDArrays.stack(squares).sum().getFloat());
    }
  }

  /**
   * Clips the gradients in place.
   *
   * @return the norm before clipping
   */
  public double clip(Collection<NDArray> gradients, NDManager scratch) {
    double norm = norm(gradients);
    double scale = maxNorm / (norm + EPS);
    if (scale < 1 && Double.isFinite(norm)) {
      NDArray factor = scratch.create((float) scale);
      for (NDArray g : gradients) g.muli(factor);
    }
    return norm;
  }
}
