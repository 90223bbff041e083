package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;

/**
 * A gradient collector for the calling thread: records a graph on this thread while open and runs
 * backward from it. DJL 0.36's own collector allows one open in the whole JVM (a static flag), but
 * what it switches, PyTorch's grad mode, is per thread, so a data-parallel step's workers each open
 * one of these. Gradients accumulate where backward puts them; nothing is zeroed here.
 */
public final class ThreadGradientCollector implements GradientCollector {
  private final boolean recording;

  public ThreadGradientCollector() {
    recording = JniUtils.isGradMode();
    JniUtils.setGradMode(true);
  }

  @Override
  public void backward(NDArray target) {
    try (NDArray seed = target.onesLike()) {
      JniUtils.backward((PtNDArray) target, (PtNDArray) seed, false, false);
    }
  }

  /** Not offered: the optimizer zeroes the gradients it has applied. */
  @Override
  public void zeroGradients() {
    throw new UnsupportedOperationException("gradients are zeroed by the optimizer after its update");
  }

  @Override
  public void close() {
    JniUtils.setGradMode(recording);
  }
}
