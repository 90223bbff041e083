package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import java.util.Random;

/**
 * A LoRA update of one frozen projection (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large
 * Language Models", arXiv:2106.09685, Eq. 3):
 *
 * <pre>
 *   h = W₀x + (α/r)·B A x          A ∈ ℝ^{r×in}, B ∈ ℝ^{out×r}, W₀ never updated
 * </pre>
 *
 * <p>Initialized as PEFT does: A ~ U(−1/√in, 1/√in) (Kaiming-uniform with a = √5) and B = 0, so a
 * fresh adapter changes nothing. Only A and B are trained.
 */
final class LowRankAdapter {

  /** What the owning model is doing now: adapters on or off, a training pass or not, whose weights. */
  interface Mode {
    boolean enabled();

    boolean training();

    /** True while the reference runs: the reference copy of A and B computes the update. */
    boolean referenceWeights();
  }

  private final NDArray a;        // (r, in)
  private final NDArray b;        // (out, r)
  private NDArray referenceA;     // TR-DPO's reference adapter, if any: same shapes, never trained
  private NDArray referenceB;
  private final NDArray scaling;  // scalar α/r, long-lived: mul(Number) on a graph array is unsafe on CPU
  private final float dropout;
  private final Mode mode;

  private LowRankAdapter(NDArray a, NDArray b, NDArray scaling, float dropout, Mode mode) {
    this.a = a;
    this.b = b;
    this.scaling = scaling;
    this.dropout = dropout;
    this.mode = mode;
  }

  /** A fresh adapter for {@code projection}, its arrays on {@code manager}. */
  static LowRankAdapter init(Projection projection, LoraConfig config, Random random, NDManager manager, Mode mode) {
    int in = Math.toIntExact(projection.in());
    float[] values = new float[config.r() * in];
    double bound = 1 / Math.sqrt(in);
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) ((2 * random.nextDouble() - 1) * bound);
    }
    NDArray a = manager.create(values, new Shape(config.r(), in));
    NDArray b = manager.zeros(new Shape(projection.out(), config.r()));
    return new LowRankAdapter(a, b, manager.create((float) config.scaling()), (float) config.dropout(), mode);
  }

  NDArray a() {
    return a;
  }

  NDArray b() {
    return b;
  }

  boolean enabled() {
    return mode.enabled();
  }

  /** Adds a reference copy of A and B, equal to them now, on {@code manager}; returns {A_ref, B_ref}. */
  NDArray[] addReference(NDManager manager) {
    if (referenceA != null) throw new IllegalStateException("this adapter already has a reference copy");
    referenceA = a.duplicate();
    referenceB = b.duplicate();
    referenceA.attach(manager);
    referenceB.attach(manager);
    return new NDArray[] {referenceA, referenceB};
  }

  /** (α/r)·B A x for x (..., in): (..., out); the input drops out in a training pass. */
  NDArray update(NDArray x) {
    return Linear.linear(down(x), currentB()).head().mul(scaling);                // (..., out)
  }

  /**
   * {@link #update}'s outputs of an LM head's vocabulary slice only, from B's rows of it. A head's
   * slices are made more than once a pass, so it must run without dropout (every slice the same A x):
   * the models' heads do.
   */
  NDArray headUpdate(NDArray x, VocabSlice slice) {
    if (mode.training() && dropout > 0) throw new IllegalStateException("an LM head's slices need the same A x: no dropout in the head");
    return Linear.linear(down(x), slice.rowsOf(currentB())).head().mul(scaling); // (..., |slice|)
  }

  /** A x, (..., r), after dropout in a training pass. */
  private NDArray down(NDArray x) {
    NDArray in = mode.training() && dropout > 0 ? Dropout.dropout(x, dropout, true).head() : x;
    return Linear.linear(in, mode.referenceWeights() ? referenceA : a).head();
  }

  private NDArray currentB() {
    return mode.referenceWeights() ? referenceB : b;
  }

  /** (α/r)·B A: (out, in), a new array on A's manager. */
  NDArray weightDelta() {
    return b.matMul(a).mul(scaling);
  }
}
