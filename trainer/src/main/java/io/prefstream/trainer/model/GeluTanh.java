package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * GELU, tanh approximation (Hendrycks and Gimpel 2016, arXiv:1606.08415):
 * ½u(1 + tanh(√(2/π)(u + 0.044715u³))). Hugging Face calls it {@code gelu_new} (GPT-2) and
 * {@code gelu_pytorch_tanh} (Gemma).
 */
final class GeluTanh {

  // long-lived scalars: mul(Number) on a graph array is unsafe on CPU
  private final NDArray half;
  private final NDArray one;
  private final NDArray sqrtTwoOverPi;
  private final NDArray cubic;

  GeluTanh(NDManager constants) {
    half = constants.create(0.5f);
    one = constants.create(1f);
    sqrtTwoOverPi = constants.create((float) Math.sqrt(2 / Math.PI));
    cubic = constants.create(0.044715f);
  }

  NDArray apply(NDArray u) {
    NDArray inner = u.mul(u).mul(u).mul(cubic).add(u).mul(sqrtTwoOverPi);
    return u.mul(inner.tanh().add(one)).mul(half);
  }
}
