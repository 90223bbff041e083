package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * A parameter's live {@code .grad}, made (zero, dense) if backward has not made it yet.
 *
 * <p>DJL's {@code getGradient()} hands out a fresh zero array, not attached to the parameter, when
 * PyTorch has no {@code .grad} yet, and it has no way to set one. Code that adds into the gradient
 * in place (the head's vocabulary slices, PyTorch's sparse embedding gradient, which would
 * otherwise become a sparse {@code .grad}) needs the real one, so a first backward of 0 · (one
 * row's sum) makes it: PyTorch keeps that backward's zero (rows × columns) result as the gradient.
 */
final class DenseGradient {
  private DenseGradient() {}

  /** Makes the parameter's dense zero gradient if it has none; call it only for parameters that require one. */
  static void ensure(NDArray parameter) {
    PtNDArray p = (PtNDArray) parameter;
    PtNDArray existing = JniUtils.getGradient(p);
    if (existing != null) {
      existing.close();
      return;
    }
    boolean recording = JniUtils.isGradMode();
    JniUtils.setGradMode(true);
    try (NDArray zero = parameter.getManager().create(0f);
        NDArray row = parameter.get(0);
        NDArray sum = row.sum();
        NDArray target = sum.mul(zero);
        NDArray seed = target.onesLike()) {
      JniUtils.backward((PtNDArray) target, (PtNDArray) seed, false, false);
    } finally {
      JniUtils.setGradMode(recording);
    }
  }

  /** The parameter's live gradient (a new handle on it: close it), made first if missing. */
  static NDArray of(NDArray parameter) {
    ensure(parameter);
    return JniUtils.getGradient((PtNDArray) parameter);
  }
}
