package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;

/**
 * The LM head's logits for a chunk of a training pass, with a backward that adds the head weight's
 * gradient in place, a vocabulary slice at a time.
 *
 * <p>Through autograd, the backward of z = h · Wᵀ makes ∂L/∂W = (∂L/∂z)ᵀ · h as a fresh (V × D)
 * array and then adds it into W's gradient: 545 MB at Qwen's vocabulary, per chunk. Here z is cut
 * from the graph into a leaf; given ∂L/∂z (the caller's, from the log-softmax's closed form),
 *
 * <pre>
 *   ∂L/∂h = ∂L/∂z · W                      carried on into h's graph
 *   ∂L/∂W[v0:v1] += (∂L/∂z[:, v0:v1])ᵀ · h  in place, for slices of {@link #SLICE_ROWS} rows of W
 * </pre>
 *
 * which is the chain rule for a matrix product, so the gradients are the same. Only when W needs a
 * gradient and a graph is being recorded; otherwise (inference, LoRA's frozen base) z is plain
 * {@code h · Wᵀ}.
 */
public final class HeadLogits {
  /** Rows of W per in-place slice: (16,384 × D) float32 temporaries, 56 MiB at D = 896. */
  static final long SLICE_ROWS = 16_384;

  private final boolean cuts;
  private final long sliceRows;
  private NDArray input;
  private NDArray weight;
  private NDArray product;
  private NDArray logits;

  private HeadLogits(boolean cuts, long sliceRows) {
    this.cuts = cuts;
    this.sliceRows = sliceRows;
  }

  /** For {@link CausalLm#head}: a plain product, gradients through autograd. */
  static HeadLogits plain() {
    return new HeadLogits(false, SLICE_ROWS);
  }

  /** For {@link CausalLm#trainingHead}: the product cut from the graph when its weight needs a gradient. */
  static HeadLogits cutting(long sliceRows) {
    return new HeadLogits(true, sliceRows);
  }

  /** Logits already made, their gradients through autograd ({@link CausalLm#trainingHead}'s default, LoRA's views). */
  public static HeadLogits of(NDArray logits) {
    HeadLogits head = plain();
    head.logits = logits;
    return head;
  }

  /** h · Wᵀ: (..., D) × (V, D) -> (..., V); the architectures' head calls this once. */
  NDArray project(NDArray hidden, NDArray w) {
    if (!cuts || !w.hasGradient() || !JniUtils.isGradMode()) return Linear.linear(hidden, w).head();
    if (product != null) throw new IllegalStateException("a head makes one product");
    input = hidden;
    weight = w;
    product = Linear.linear(hidden.stopGradient(), w.stopGradient()).head();
    product.setRequiresGradient(true);
    return product;
  }

  HeadLogits withLogits(NDArray headLogits) {
    logits = headLogits;
    return this;
  }

  /** (..., V) logits; their graph reaches the hidden states and, through {@link #backward}, W. */
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
    NDArray w = weight.stopGradient();                                          // (V, D)
    collector.backward(input.mul(productGradient.matMul(w)).sum());             // ∂L/∂h = ∂L/∂z · W
    long vocab = w.getShape().get(0);
    NDArray states = input.stopGradient().reshape(-1, w.getShape().get(1));     // (P, D)
    productGradient = productGradient.reshape(-1, vocab);                       // (P, V)
    try (NDArray gradient = DenseGradient.of(weight)) {
      for (long v0 = 0; v0 < vocab; v0 += sliceRows) {
        long v1 = Math.min(vocab, v0 + sliceRows);
        try (NDArray slice = gradient.get(new NDIndex("{}:{}", v0, v1));        // a view: addi writes into .grad
            NDArray columns = productGradient.get(new NDIndex(":, {}:{}", v0, v1));
            NDArray transposed = columns.transpose();
            NDArray part = transposed.matMul(states)) {
          slice.addi(part);
        }
      }
    }
  }
}
