package io.prefstream.trainer.optim;

/**
 * The learning rate at each step: rising linearly from lr/warmup to lr over the first {@code
 * warmupSteps} steps, then constant (online training has no planned end to decay towards).
 */
public record LinearWarmup(double learningRate, int warmupSteps) {
  public LinearWarmup {
    if (!(learningRate > 0) || Double.isInfinite(learningRate)) throw new IllegalArgumentException("learning rate must be finite and > 0, got " + learningRate);
    if (warmupSteps < 0) throw new IllegalArgumentException("warmup steps must be >= 0, got " + warmupSteps);
  }

  /** @param step the 1-based number of the update about to be made */
  public double at(long step) {
    if (step < 1) throw new IllegalArgumentException("steps count from 1, got " + step);
    return step >= warmupSteps ? learningRate : learningRate * step / warmupSteps;
  }
}
