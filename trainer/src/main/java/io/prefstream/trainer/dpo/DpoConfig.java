package io.prefstream.trainer.dpo;

/**
 * What the preference loss computes.
 *
 * @param beta β > 0: how strongly the policy is held near the reference
 * @param loss which member of the DPO family
 * @param labelSmoothing ε in [0, 0.5): the assumed share of flipped labels (cDPO only)
 * @param rpoAlpha weight ≥ 0 of the NLL term on the chosen response (0: none)
 * @param aggregation how token log-probs become a response's log-prob
 */
public record DpoConfig(double beta, LossType loss, double labelSmoothing, double rpoAlpha, LogProbAggregation aggregation) {
  public DpoConfig {
    if (!(beta > 0) || Double.isInfinite(beta)) throw new IllegalArgumentException("beta must be finite and > 0, got " + beta);
    if (!(labelSmoothing >= 0 && labelSmoothing < 0.5)) {
      throw new IllegalArgumentException("label smoothing must be in [0, 0.5), got " + labelSmoothing);
    }
    if (labelSmoothing > 0 && loss != LossType.CDPO) {
      throw new IllegalArgumentException("label smoothing applies to the cdpo loss only, not " + loss.label());
    }
    if (!(rpoAlpha >= 0) || Double.isInfinite(rpoAlpha)) throw new IllegalArgumentException("rpo alpha must be finite and >= 0, got " + rpoAlpha);
  }

  /** Sigmoid DPO with β = 0.1 on summed log-probs: the paper's setting. */
  public static DpoConfig defaults() {
    return new DpoConfig(0.1, LossType.SIGMOID, 0, 0, LogProbAggregation.SUM);
  }
}
