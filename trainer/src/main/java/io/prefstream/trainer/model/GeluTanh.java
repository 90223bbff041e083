package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;

/**
 * GELU, tanh approximation (Hendrycks and Gimpel 2016, arXiv:1606.08415):
 * ½u(1 + tanh(√(2/π)(u + 0.044715u³))). Hugging Face calls it {@code gelu_new} (GPT-2) and
 * {@code gelu_pytorch_tanh} (Gemma).
 *
 * <p>Computed as u·σ(u·(a + b·u²)), a = 2√(2/π), b = 0.044715·a: the same function, since
 * ½(1 + tanh z) = σ(2z). DJL has no fused tanh-GELU; this form takes six element-wise passes over
 * the (tokens × 4D) activations forward (the textbook form nine) and fewer backward.
 */
final class GeluTanh {

  // long-lived scalars: mul(Number) on a graph array is unsafe on CPU
  private final NDArray linear;
  private final NDArray cubic;

  GeluTanh(NDManager constants) {
    double a = 2 * Math.sqrt(2 / Math.PI);
    linear = constants.create((float) a);
    cubic = constants.create((float) (0.044715 * a));
  }

  NDArray apply(NDArray u) {
    NDArray inner = u.square().mul(cubic).add(linear).mul(u);                   // 2√(2/π)(u + 0.044715u³)
    return u.mul(Activation.sigmoid(inner));
  }
}
