package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;

/**
 * The LM head's logits over a slice of the vocabulary for a chunk of a training pass, with a
 * backward that adds the head weight's gradient in place.
 *
 * <p>Through autograd, the backward of z = h · Wᵀ makes ∂L/∂W = (∂L/∂z)ᵀ · h as a fresh (V × D)
 * array and then adds it into W's gradient: 545 MB at Qwen's vocabulary, per chunk. Here z is cut
 * from the graph into a leaf; given ∂L/∂z (the caller's, from the log-softmax's closed form),
 *
 * <pre>
 *   ∂L/∂h = ∂L/∂z · W[v0:v1]                carried on into h's graph
 *   ∂L/∂W[v0:v1] += (∂L/∂z)ᵀ · h              in place, for the slice's rows of W
 * </pre>
 *
 * which is the chain rule for a matrix product, so the gradients are the same; the temporary is
 * (slice × D), so callers keep slices small. Only when W needs a gradient and a graph is being
 * recorded; otherwise (inference, LoRA's frozen base) z is plain {@code h · W[v0:v1]ᵀ}.
 */
public final class HeadLogits {
  private final boolean cuts;
  private final VocabSlice slice;
  private NDArray input;
  private NDArray weight;
  private NDArray product;
  private NDArray logits;

  private HeadLogits(boolean cuts, VocabSlice slice) {
    this.cuts = cuts;
    this.slice = slice;
  }

  /** For {@link CausalLm#head}: a plain product, gradients through autograd. */
  static HeadLogits plain(VocabSlice slice) {
    return new HeadLogits(false, slice);
  }

  /** For {@link CausalLm#trainingHead}: the product cut from the graph when its weight needs a gradient. */
  static HeadLogits cutting(VocabSlice slice) {
    return new HeadLogits(true, slice);
  }

  /** Logits already made, their gradients through autograd ({@link CausalLm#trainingHead}'s default, LoRA's views); it makes no product. */
  public static HeadLogits of(NDArray logits) {
    HeadLogits head = new HeadLogits(false, null);
    head.logits = logits;
    return head;
  }

  /** The vocabulary entries this head's product scores; null for logits made elsewhere ({@link #of}). */
  VocabSlice slice() {
    return slice;
  }

  /** h · W[v0:v1]ᵀ: (..., D) × (V, D) -> (..., v1 - v0); the architectures' head calls this once. */
  NDArray project(NDArray hidden, NDArray w) {
    NDArray rows = slice.rowsOf(w);
    if (!cuts || !w.hasGradient() || !JniUtils.isGradMode()) return Linear.linear(hidden, rows).head();
    if (product != null) throw new IllegalStateException("a head makes one product");
    input = hidden;
    weight = w;
    product = Linear.linear(hidden.stopGradient(), rows.stopGradient()).head();
    product.setRequiresGradient(true);
    return product;
  }

  HeadLogits withLogits(NDArray headLogits) {
    logits = headLogits;
    return this;
  }

  /** (..., v1 - v0) logits; their graph reaches the hidden states and, through {@link #backward}, W. */
  public NDArray logits() {
    return logits;
  }

  /**
   * Accumulates, given ∂L/∂z for {@link #logits}, the gradient into the hidden states' graph and W.
   *
   * @param logitsGradient ∂L/∂z, shaped as the logits, without a graph; may be overwritten. When the
   *     logits are the product itself, they are freed: close every other handle on them before.
   */
  public void backward(GradientCollector collector, NDArray logitsGradient) {
    NDArray productGradient = logitsGradient;                                   // ∂L/∂(h · Wᵀ)
    if (logits == product) {
      product.close(); // its values are spent: no graph reads them, and the caller gave their gradient
    } else {
      // through what the architecture did after the product (Gemma's soft cap), or all of autograd
      collector.backward(logits.mul(logitsGradient).sum());
      if (product == null) return;
      productGradient = product.getGradient();
    }
    NDArray rows = slice.rowsOf(weight.stopGradient());                         // (v1 - v0, D)
    collector.backward(input.mul(productGradient.matMul(rows)).sum());          // ∂L/∂h = ∂L/∂z · W[v0:v1]
    NDArray states = input.stopGradient().reshape(-1, rows.getShape().get(1));  // (P, D)
    try (NDArray gradient = DenseGradient.of(weight);
        NDArray transposed = productGradient.reshape(-1, slice.size()).transpose();
        NDArray part = transposed.matMul(states)) {                             // (v1 - v0, D)
      NDArray gradientRows = slice.rowsOf(gradient);                            // a view: addi writes into .grad
      gradientRows.addi(part);
      if (gradientRows != gradient) gradientRows.close();
    }
  }
}
