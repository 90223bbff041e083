package io.prefstream.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter 2019, arXiv:1711.05101, Algorithm 2),
 * as PyTorch's {@code torch.optim.AdamW}:
 *
 * <pre>
 *   θ ← θ − lr·λ·θ
 *   m ← β1·m + (1−β1)·g          v ← β2·v + (1−β2)·g²
 *   θ ← θ − lr · (m / (1−β1^t)) / (√(v / (1−β2^t)) + ε)
 * </pre>
 *
 * Weight decay applies to matrices only: biases and norm gains, the 1-D parameters of every
 * architecture here, are not decayed, as Hugging Face's trainers group them ({@code
 * get_decay_parameter_names}: no bias, no LayerNorm/RMSNorm weight). LoRA's A and B are matrices
 * and are decayed, as there.
 *
 * <p>The moments live on their own manager and are made by {@link #track} before the first step,
 * outside any step's {@code NDScope} (which would close them). Updates happen in place, outside a
 * gradient collector (where DJL records no graph).
 */
public final class AdamW implements AutoCloseable {
  /**
   * Elements a slice of the update's last part holds in each temporary: 2^22 floats, 16 MiB, under
   * glibc's largest mmap threshold (32 MiB), so the temporaries reuse heap memory instead of being
   * mapped and faulted in afresh each time.
   */
  private static final long SLICE = 1L << 22;

  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;
  private final NDManager stateManager;
  private final Map<String, NDArray> firstMoments = new LinkedHashMap<>();
  private final Map<String, NDArray> secondMoments = new LinkedHashMap<>();
  private long step;

  public AdamW(double beta1, double beta2, double eps, double weightDecay, NDManager parent) {
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("betas must be in [0, 1)");
    if (!(eps > 0)) throw new IllegalArgumentException("eps must be > 0, got " + eps);
    if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.stateManager = parent.newSubManager();
  }

  /** PyTorch's defaults: β = (0.9, 0.999), ε = 1e-8, with the given weight decay. */
  public static AdamW withDefaults(double weightDecay, NDManager parent) {
    return new AdamW(0.9, 0.999, 1e-8, weightDecay, parent);
  }

  /** Creates zero moments for these parameters; call it outside any step scope. */
  public void track(Map<String, NDArray> parameters) {
    parameters.forEach((name, theta) -> {
      firstMoments.computeIfAbsent(name, n -> stateManager.zeros(theta.getShape(), theta.getDataType(), theta.getDevice()));
      secondMoments.computeIfAbsent(name, n -> stateManager.zeros(theta.getShape(), theta.getDataType(), theta.getDevice()));
    });
  }

  /** Updates made so far: skipped steps are not updates and do not count (bias correction reads it). */
  public long step() {
    return step;
  }

  /**
   * Makes one update of every parameter from its gradient. The gradients serve as the update's
   * scratch space: no full-size temporary is made (for a 150k-vocabulary embedding one is 0.5 GB),
   * and the gradients hold garbage afterwards; the caller zeroes them for the next step anyway.
   *
   * @param gradients by parameter name, same keys as {@code parameters}; overwritten
   * @param scratch where the step's scalars go; closed by the caller
   */
  public void update(Map<String, NDArray> parameters, Map<String, NDArray> gradients, double learningRate, NDManager scratch) {
    update(parameters, gradients, learningRate, scratch, Fanout.SERIAL);
  }

  /**
   * {@link #update(Map, Map, double, NDManager)} with the parameters shared out by {@code fanout}:
   * each parameter's update is the same whichever thread makes it.
   */
  public void update(Map<String, NDArray> parameters, Map<String, NDArray> gradients, double learningRate, NDManager scratch, Fanout fanout) {
    for (String name : parameters.keySet()) { // before any update: a worker must not fail with others' shares done
      if (!firstMoments.containsKey(name)) throw new IllegalStateException("parameter " + name + " is not tracked: call track() first");
      if (!gradients.containsKey(name)) throw new IllegalArgumentException("parameter " + name + " has no gradient");
    }
    step++;
    Scalars scalars = new Scalars(scratch, learningRate);
    fanout.each(List.copyOf(parameters.keySet()), name -> parameters.get(name).size(),
        name -> update(parameters.get(name), gradients.get(name), firstMoments.get(name), secondMoments.get(name), scalars));
  }

  /** The update's scalars, as arrays made once per update: mul(Number) on a graph array is unsafe on CPU. */
  private final class Scalars {
    final NDArray decay;
    final NDArray b1;
    final NDArray oneMinusB1;
    final NDArray b2;
    final NDArray squareScale;
    final NDArray stepSize;
    final NDArray secondCorrection;
    final NDArray epsilon;

    Scalars(NDManager scratch, double learningRate) {
      decay = scratch.create((float) (1 - learningRate * weightDecay));
      b1 = scratch.create((float) beta1);
      oneMinusB1 = scratch.create((float) (1 - beta1));
      b2 = scratch.create((float) beta2);
      // ((1−β1)·g)² · (1−β2)/(1−β1)² = (1−β2)·g²
      squareScale = scratch.create((float) ((1 - beta2) / ((1 - beta1) * (1 - beta1))));
      stepSize = scratch.create((float) (learningRate / (1 - Math.pow(beta1, step))));
      secondCorrection = scratch.create((float) Math.sqrt(1 - Math.pow(beta2, step)));
      epsilon = scratch.create((float) eps);
    }
  }

  private static void update(NDArray parameter, NDArray g, NDArray m, NDArray v, Scalars s) {
    // a detached view shares the weights' storage: in-place updates on it are allowed whatever
    // the thread's autograd mode (PyTorch's grad mode is per thread)
    NDArray theta = parameter.stopGradient();
    m.muli(s.b1).addi(g.muli(s.oneMinusB1));                    // g holds (1−β1)·g
    v.muli(s.b2).addi(g.muli(g).muli(s.squareScale));           // g holds (1−β2)·g²
    if (decays(theta)) theta.muli(s.decay);
    step(theta, m, v, s.stepSize, s.secondCorrection, s.epsilon);
  }

  /**
   * θ ← θ − lr/(1−β1^t) · m / (√v / √(1−β2^t) + ε), a slice of {@link #SLICE} elements at a time:
   * DJL has no in-place square root or division into its right operand, and {@code pow} with an
   * array exponent (an in-place alternative) runs PyTorch's general kernel at several times the
   * cost, so the slices bound what the out-of-place operations allocate.
   */
  private static void step(NDArray theta, NDArray m, NDArray v, NDArray stepSize, NDArray secondCorrection, NDArray epsilon) {
    long size = theta.size();
    try (NDArray flatTheta = theta.reshape(-1); NDArray flatM = m.reshape(-1); NDArray flatV = v.reshape(-1)) {
      for (long from = 0; from < size; from += SLICE) {
        NDIndex slice = new NDIndex("{}:{}", from, Math.min(size, from + SLICE));
        try (NDArray thetaSlice = flatTheta.get(slice);
            NDArray mSlice = flatM.get(slice);
            NDArray vSlice = flatV.get(slice);
            NDArray denominator = vSlice.sqrt().divi(secondCorrection).addi(epsilon);
            NDArray update = mSlice.div(denominator).muli(stepSize)) {
          thetaSlice.subi(update);
        }
      }
    }
  }

  /** True for the parameters weight decay applies to: matrices and embeddings, not biases or norm gains. */
  public static boolean decays(NDArray parameter) {
    return parameter.getShape().dimension() >= 2;
  }

  /** The optimizer state to save with a checkpoint: moments by {@code m.<name>}, {@code v.<name>}. */
  public Map<String, NDArray> state() {
    Map<String, NDArray> state = new LinkedHashMap<>();
    firstMoments.forEach((k, a) -> state.put("m." + k, a));
    secondMoments.forEach((k, a) -> state.put("v." + k, a));
    return state;
  }

  /** Restores moments and step count saved by {@link #state()} and {@link #step()}. */
  public void restore(Map<String, NDArray> state, long steps) {
    firstMoments.clear();
    secondMoments.clear();
    state.forEach((k, a) -> {
      NDArray copy = a.duplicate();
      copy.attach(stateManager);
      if (k.startsWith("m.")) firstMoments.put(k.substring(2), copy);
      else if (k.startsWith("v.")) secondMoments.put(k.substring(2), copy);
      else throw new IllegalArgumentException("optimizer state entry '" + k + "' is neither m.* nor v.*");
    });
    this.step = steps;
  }

  @Override
  public void close() {
    stateManager.close();
  }
}
