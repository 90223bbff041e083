package io.prefstream.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The update half of every training step, whatever its loss: take the gradients that backward
 * accumulated on the parameters, clip them by their global norm, make an AdamW update at the
 * warm-up schedule's rate (skipped when the loss or the norm is not finite), and zero them for the
 * next step.
 */
public final class ClippedUpdate implements AutoCloseable {
  /** What an update did. */
  public record Applied(double gradNorm, double learningRate, boolean skipped) {}

  private final Map<String, NDArray> parameters;
  private final AdamW optimizer;
  private final LinearWarmup schedule;
  private final GlobalNormClipping clipping;
  private final Fanout fanout;

  /** Marks the parameters as needing gradients and creates the optimizer's moments for them. */
  public ClippedUpdate(Map<String, NDArray> parameters, LinearWarmup schedule, double maxGradNorm, double weightDecay, NDManager manager) {
    this(parameters, schedule, maxGradNorm, weightDecay, manager, Fanout.SERIAL);
  }

  /** @param fanout shares out the per-parameter work of the update and the zeroing of the gradients */
  public ClippedUpdate(Map<String, NDArray> parameters, LinearWarmup schedule, double maxGradNorm, double weightDecay, NDManager manager,
      Fanout fanout) {
    this.parameters = parameters;
    this.fanout = fanout;
    this.optimizer = AdamW.withDefaults(weightDecay, manager);
    this.schedule = schedule;
    this.clipping = new GlobalNormClipping(maxGradNorm);
    parameters.values().forEach(p -> p.setRequiresGradient(true));
    optimizer.track(parameters);
  }

  public AdamW optimizer() {
    return optimizer;
  }

  /**
   * Applies the accumulated gradients; call it outside the gradient collector.
   *
   * @param loss the step's loss, only checked for being finite
   * @param scratch where the update's temporaries go; closed by the caller
   */
  public Applied apply(double loss, NDManager scratch) {
    double lr = schedule.at(optimizer.step() + 1);
    Map<String, NDArray> gradients = new LinkedHashMap<>();
    try {
      parameters.forEach((name, p) -> gradients.put(name, p.getGradient()));
      double norm = clipping.clip(gradients.values(), scratch);
      boolean finite = Double.isFinite(loss) && Double.isFinite(norm);
      if (finite) optimizer.update(parameters, gradients, lr, scratch, fanout);
      zero(gradients); // backward adds to .grad; AdamW used it as scratch
      return new Applied(norm, lr, !finite);
    } finally {
      gradients.values().forEach(NDArray::close); // getGradient() hands out a new handle each call
    }
  }

  /** Drops what backward accumulated so far, for a step that failed before its update: the next starts from zero. */
  public void discard() {
    Map<String, NDArray> gradients = new LinkedHashMap<>();
    try {
      parameters.forEach((name, p) -> gradients.put(name, p.getGradient()));
      zero(gradients);
    } finally {
      gradients.values().forEach(NDArray::close);
    }
  }

  private void zero(Map<String, NDArray> gradients) {
    fanout.each(List.copyOf(gradients.values()), NDArray::size, g -> g.set(new NDIndex("..."), 0));
  }

  @Override
  public void close() {
    optimizer.close();
  }
}
