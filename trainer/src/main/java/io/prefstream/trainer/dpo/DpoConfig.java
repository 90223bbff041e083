package io.prefstream.trainer.dpo;

import java.util.List;

/**
 * What the preference loss computes; names and defaults follow TRL's {@code DPOConfig}.
 *
 * @param beta β > 0: how strongly the policy is held near the reference (IPO's τ; ORPO's λ is {@code orpoLambda})
 * @param losses the weighted terms summed into the loss (TRL's loss_type with loss_weights)
 * @param labelSmoothing ε in [0, 0.5): the assumed share of flipped labels (sigmoid, cdpo, robust, aot,
 *     aot_unpaired, simpo) or EXO's smoothing (exo_pair, which needs ε > 0; the paper uses 1e-3)
 * @param rpoAlpha weight ≥ 0 of RPO's length-normalized NLL term on the chosen response (0: none)
 * @param aggregation how token log-probs become a response's log-prob
 * @param fDivergence the divergence the scores are derived from (reverse_kl: DPO)
 * @param alphaDivergenceCoef α of the alpha divergence
 * @param discopopTau τ > 0 of DiscoPOP's modulation
 * @param simpoGamma SimPO's target margin γ
 * @param orpoLambda ORPO's λ, the weight of the odds-ratio term
 * @param useWeighting WPO: weigh each pair by its responses' length-normalized probabilities
 * @param ldAlpha LD-DPO's α in [0, 1]: tokens past the shorter response's length count α times (1: off)
 * @param ktoDesirableWeight KTO's λ_D ≥ 0, for labelled responses (see {@link KtoLoss})
 * @param ktoUndesirableWeight KTO's λ_U ≥ 0
 */
public record DpoConfig(
    double beta,
    List<LossTerm> losses,
    double labelSmoothing,
    double rpoAlpha,
    LogProbAggregation aggregation,
    FDivergence fDivergence,
    double alphaDivergenceCoef,
    double discopopTau,
    double simpoGamma,
    double orpoLambda,
    boolean useWeighting,
    double ldAlpha,
    double ktoDesirableWeight,
    double ktoUndesirableWeight) {

  public DpoConfig {
    losses = List.copyOf(losses);
    if (losses.isEmpty()) throw new IllegalArgumentException("name at least one loss");
    if (!(beta > 0) || Double.isInfinite(beta)) throw new IllegalArgumentException("beta must be finite and > 0, got " + beta);
    if (!(labelSmoothing >= 0 && labelSmoothing < 0.5)) {
      throw new IllegalArgumentException("label smoothing must be in [0, 0.5), got " + labelSmoothing);
    }
    if (labelSmoothing > 0 && losses.stream().noneMatch(t -> t.type().usesLabelSmoothing())) {
      throw new IllegalArgumentException("label smoothing applies to sigmoid, cdpo, robust, exo_pair, aot, aot_unpaired and simpo only, not " + LossTerm.describe(losses));
    }
    if (labelSmoothing == 0 && has(losses, LossType.EXO_PAIR)) {
      throw new IllegalArgumentException("exo_pair needs label smoothing > 0 (its ε; the EXO paper uses 1e-3)");
    }
    if (useWeighting && losses.stream().anyMatch(t -> t.type().sortsTheBatch())) {
      throw new IllegalArgumentException("WPO weighting does not apply to aot or aot_unpaired: they sort the batch, which would misalign the pairs' weights");
    }
    if (!(rpoAlpha >= 0) || Double.isInfinite(rpoAlpha)) throw new IllegalArgumentException("rpo alpha must be finite and >= 0, got " + rpoAlpha);
    if (!Double.isFinite(alphaDivergenceCoef)) throw new IllegalArgumentException("the alpha divergence coefficient must be finite, got " + alphaDivergenceCoef);
    if (!(discopopTau > 0) || Double.isInfinite(discopopTau)) throw new IllegalArgumentException("discopop tau must be finite and > 0, got " + discopopTau);
    if (!Double.isFinite(simpoGamma)) throw new IllegalArgumentException("simpo gamma must be finite, got " + simpoGamma);
    if (!(orpoLambda >= 0) || Double.isInfinite(orpoLambda)) throw new IllegalArgumentException("orpo lambda must be finite and >= 0, got " + orpoLambda);
    if (!(ldAlpha >= 0 && ldAlpha <= 1)) throw new IllegalArgumentException("ld alpha must be in [0, 1], got " + ldAlpha);
    if (!(ktoDesirableWeight >= 0) || !(ktoUndesirableWeight >= 0) || Double.isInfinite(ktoDesirableWeight) || Double.isInfinite(ktoUndesirableWeight)) {
      throw new IllegalArgumentException("KTO's desirable and undesirable weights must be finite and >= 0, got " + ktoDesirableWeight + " and " + ktoUndesirableWeight);
    }
  }

  /** Whether a term sorts the batch (aot, aot_unpaired): the loss then depends on which examples share a micro-batch. */
  public boolean sortsTheBatch() {
    return losses.stream().anyMatch(t -> t.type().sortsTheBatch());
  }


  /** Sigmoid DPO with β = 0.1 on summed log-probs: the paper's setting and TRL's defaults. */
  public static DpoConfig defaults() {
    return of(LossType.SIGMOID);
  }

  /** One loss of weight 1, every other setting at TRL's default (exo_pair: ε = 1e-3, as its paper). */
  public static DpoConfig of(LossType loss) {
    return new DpoConfig(0.1, List.of(new LossTerm(loss, 1)), loss == LossType.EXO_PAIR ? 1e-3 : 0, 0, LogProbAggregation.SUM, FDivergence.REVERSE_KL, 0.5, 0.05, 0.5, 0.1, false, 1.0, 1.0, 1.0);
  }

  public DpoConfig withBeta(double b) {
    return new DpoConfig(b, losses, labelSmoothing, rpoAlpha, aggregation, fDivergence, alphaDivergenceCoef, discopopTau, simpoGamma, orpoLambda, useWeighting, ldAlpha, ktoDesirableWeight, ktoUndesirableWeight);
  }

  public DpoConfig withLosses(List<LossTerm> terms) {
    return new DpoConfig(beta, terms, labelSmoothing, rpoAlpha, aggregation, fDivergence, alphaDivergenceCoef, discopopTau, simpoGamma, orpoLambda, useWeighting, ldAlpha, ktoDesirableWeight, ktoUndesirableWeight);
  }

  public DpoConfig withLabelSmoothing(double epsilon) {
    return new DpoConfig(beta, losses, epsilon, rpoAlpha, aggregation, fDivergence, alphaDivergenceCoef, discopopTau, simpoGamma, orpoLambda, useWeighting, ldAlpha, ktoDesirableWeight, ktoUndesirableWeight);
  }

  public DpoConfig withRpoAlpha(double alpha) {
    return new DpoConfig(beta, losses, labelSmoothing, alpha, aggregation, fDivergence, alphaDivergenceCoef, discopopTau, simpoGamma, orpoLambda, useWeighting, ldAlpha, ktoDesirableWeight, ktoUndesirableWeight);
  }

  public DpoConfig withAggregation(LogProbAggregation a) {
    return new DpoConfig(beta, losses, labelSmoothing, rpoAlpha, a, fDivergence, alphaDivergenceCoef, discopopTau, simpoGamma, orpoLambda, useWeighting, ldAlpha, ktoDesirableWeight, ktoUndesirableWeight);
  }

  public DpoConfig withFDivergence(FDivergence f, double alphaCoef) {
    return new DpoConfig(beta, losses, labelSmoothing, rpoAlpha, aggregation, f, alphaCoef, discopopTau, simpoGamma, orpoLambda, useWeighting, ldAlpha, ktoDesirableWeight, ktoUndesirableWeight);
  }

  public DpoConfig withDiscopopTau(double tau) {
    return new DpoConfig(beta, losses, labelSmoothing, rpoAlpha, aggregation, fDivergence, alphaDivergenceCoef, tau, simpoGamma, orpoLambda, useWeighting, ldAlpha, ktoDesirableWeight, ktoUndesirableWeight);
  }

  public DpoConfig withSimpoGamma(double gamma) {
    return new DpoConfig(beta, losses, labelSmoothing, rpoAlpha, aggregation, fDivergence, alphaDivergenceCoef, discopopTau, gamma, orpoLambda, useWeighting, ldAlpha, ktoDesirableWeight, ktoUndesirableWeight);
  }

  public DpoConfig withOrpoLambda(double lambda) {
    return new DpoConfig(beta, losses, labelSmoothing, rpoAlpha, aggregation, fDivergence, alphaDivergenceCoef, discopopTau, simpoGamma, lambda, useWeighting, ldAlpha, ktoDesirableWeight, ktoUndesirableWeight);
  }

  public DpoConfig withWeighting(boolean wpo) {
    return new DpoConfig(beta, losses, labelSmoothing, rpoAlpha, aggregation, fDivergence, alphaDivergenceCoef, discopopTau, simpoGamma, orpoLambda, wpo, ldAlpha, ktoDesirableWeight, ktoUndesirableWeight);
  }

  public DpoConfig withLdAlpha(double alpha) {
    return new DpoConfig(beta, losses, labelSmoothing, rpoAlpha, aggregation, fDivergence, alphaDivergenceCoef, discopopTau, simpoGamma, orpoLambda, useWeighting, alpha, ktoDesirableWeight, ktoUndesirableWeight);
  }

  public DpoConfig withKtoWeights(double desirable, double undesirable) {
    return new DpoConfig(beta, losses, labelSmoothing, rpoAlpha, aggregation, fDivergence, alphaDivergenceCoef, discopopTau, simpoGamma, orpoLambda, useWeighting, ldAlpha, desirable, undesirable);
  }

  /** False when every term reads the policy alone: then no reference pass is made. */
  public boolean needsReference() {
    return losses.stream().anyMatch(t -> t.type().needsReference());
  }

  /** True when the loss includes this type. */
  public boolean has(LossType type) {
    return has(losses, type);
  }

  private static boolean has(List<LossTerm> terms, LossType type) {
    return terms.stream().anyMatch(t -> t.type() == type);
  }
}
