package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The pairwise members of the family, each on one column pair (chosen w, rejected l) of a batch,
 * as TRL's DPOTrainer computes them. With ρ = log π − log π_ref, scores s = f'(ρ) (ρ itself for
 * reverse KL, see {@link FDivergence}), Δ = s_w − s_l, x = βΔ, n the response lengths and m = log
 * π / n the policy's mean token log-probs:
 *
 * <pre>
 *   sigmoid       −log σ(x)                                          Rafailov et al. 2023, arXiv:2305.18290, Eq. 7
 *   cdpo          −(1−ε) log σ(x) − ε log σ(−x)                        Mitchell 2023, "A note on DPO with noisy preferences"
 *   robust        (−(1−ε) log σ(x) + ε log σ(−x)) / (1−2ε)              Chowdhury et al. 2024, arXiv:2403.00409, Eq. 9
 *   ipo           (s_w/n_w − s_l/n_l − 1/(2β))²                          Azar et al. 2023, arXiv:2310.12036, Eq. 17 (length-normalized as TRL)
 *   hinge         max(0, 1 − x)                                      SLiC, Zhao et al. 2023, arXiv:2305.10425
 *   exo_pair      σ(x)(log σ(x) − log(1−ε)) + σ(−x)(log σ(−x) − log ε)   Ji et al. 2024, arXiv:2402.00856, Eq. 16
 *   nca_pair      −log σ(βs_w) − ½ log σ(−βs_w) − ½ log σ(−βs_l)           Chen et al. 2024, arXiv:2402.05369
 *   bco_pair      −log σ(βs_w) − log σ(−βs_l)                           Jung et al. 2024, arXiv:2404.04656
 *   sppo_hard     (s_w − 1/(2β))² + (s_l + 1/(2β))²                        Wu et al. 2024, arXiv:2405.00675, Eq. 4.7 (P = 1 / 0)
 *   aot           cdpo on δ = sort_B(log π_w − log π_l) − sort_B(log π_ref,w − log π_ref,l)   Melnyk et al. 2024, arXiv:2406.05882
 *   aot_unpaired  cdpo on δ = sort_B(ρ_w) − sort_B(ρ_l)                   Melnyk et al. 2024
 *   apo_zero      1 − σ(βρ_w) + σ(βρ_l)                                  D'Oosterlinck et al. 2024, arXiv:2408.06266, Eq. 7
 *   apo_down      σ(βρ_w) + 1 − σ(x)                                     D'Oosterlinck et al. 2024, Eq. 8
 *   discopop      (1−σ(x/τ))·(−log σ(x)) + σ(x/τ)·exp(−x)                   Chris Lu et al. 2024, arXiv:2406.08414, Eq. 5
 *   sigmoid_norm  −log σ(β(s_w/n_w − s_l/n_l))
 *   simpo         −(1−ε) log σ(β(m_w − m_l) − γ) − ε log σ(−β(m_w − m_l) + γ)   Meng et al. 2024, arXiv:2405.14734, Eq. 6 (no reference)
 *   orpo          −λ log σ(log odds(m_w) − log odds(m_l)), odds(m) = e^m / (1 − e^m)   Hong et al. 2024, arXiv:2403.07691, Eq. 6-7 (no reference)
 * </pre>
 *
 * With {@code dpo.logp=mean} the log-probs are already per token and ipo and sigmoid_norm do not
 * divide again. −log σ(y) is computed as softplus(−y), which stays finite for large |y|.
 *
 * <p>Scalars are long-lived arrays: {@code mul(Number)} on an array in the gradient graph is
 * unsafe in DJL's PyTorch engine on CPU.
 */
final class PairwiseLosses {
  /**
   * One column pair's numbers, each (B).
   *
   * @param policyW log π(y_w) as aggregated by the config
   * @param referenceW log π_ref(y_w); null without a reference
   * @param scoreW s_w = f'(ρ_w); null without a reference
   * @param meanW m_w, the mean token log-prob
   * @param tokensW n_w
   */
  record Pair(
      NDArray policyW, NDArray policyL, NDArray referenceW, NDArray referenceL, NDArray scoreW, NDArray scoreL,
      NDArray meanW, NDArray meanL, NDArray tokensW, NDArray tokensL) {}

  private final DpoConfig config;
  private final NDManager constants;
  private final Map<Double, NDArray> scalars = new ConcurrentHashMap<>(); // a step's workers share it

  PairwiseLosses(DpoConfig config, NDManager constants) {
    this.config = config;
    this.constants = constants;
  }

  /** (B) the loss of one pairwise type; {@code sft} and {@code plackett-luce} are not pairwise. */
  NDArray of(LossType type, Pair p) {
    double beta = config.beta();
    double eps = config.labelSmoothing();
    return switch (type) {
      case SIGMOID, CDPO -> smoothed(x(p), eps); // TRL's sigmoid with label_smoothing is cDPO
      case ROBUST -> negLogSigmoid(x(p)).mul(c(1 - eps)).sub(negLogSigmoid(x(p).neg()).mul(c(eps))).div(c(1 - 2 * eps));
      case IPO -> perToken(p.scoreW(), p.tokensW()).sub(perToken(p.scoreL(), p.tokensL())).sub(c(1 / (2 * beta))).square();
      case HINGE -> c(1).sub(x(p)).getNDArrayInternal().relu();
      case EXO_PAIR -> exo(x(p), eps);
      case NCA_PAIR -> {
        NDArray chosen = p.scoreW().mul(c(beta));
        NDArray rejected = p.scoreL().mul(c(beta));
        yield negLogSigmoid(chosen).add(negLogSigmoid(chosen.neg()).mul(c(0.5))).add(negLogSigmoid(rejected.neg()).mul(c(0.5)));
      }
      case BCO_PAIR -> negLogSigmoid(p.scoreW().mul(c(beta))).add(negLogSigmoid(p.scoreL().mul(c(-beta))));
      case SPPO_HARD -> p.scoreW().sub(c(0.5 / beta)).square().add(p.scoreL().add(c(0.5 / beta)).square());
      case AOT -> {
        NDArray policy = p.policyW().sub(p.policyL()).sort(0);
        NDArray reference = p.referenceW().sub(p.referenceL()).sort(0);
        yield smoothed(policy.sub(reference).mul(c(beta)), eps);
      }
      case AOT_UNPAIRED -> {
        NDArray chosen = p.policyW().sub(p.referenceW()).sort(0);
        NDArray rejected = p.policyL().sub(p.referenceL()).sort(0);
        yield smoothed(chosen.sub(rejected).mul(c(beta)), eps);
      }
      case APO_ZERO -> c(1).sub(sigmoid(logRatioW(p).mul(c(beta)))).add(sigmoid(logRatioL(p).mul(c(beta))));
      case APO_DOWN -> sigmoid(logRatioW(p).mul(c(beta))).add(c(1)).sub(sigmoid(x(p)));
      case DISCOPOP -> {
        NDArray x = x(p);
        NDArray modulation = sigmoid(x.div(c(config.discopopTau())));
        yield negLogSigmoid(x).mul(c(1).sub(modulation)).add(x.neg().exp().mul(modulation));
      }
      case SIGMOID_NORM -> negLogSigmoid(perToken(p.scoreW(), p.tokensW()).sub(perToken(p.scoreL(), p.tokensL())).mul(c(beta)));
      case SIMPO -> smoothed(p.meanW().sub(p.meanL()).mul(c(beta)).sub(c(config.simpoGamma())), eps);
      case ORPO -> negLogSigmoid(logOdds(p.meanW()).sub(logOdds(p.meanL()))).mul(c(config.orpoLambda()));
      case SFT, PLACKETT_LUCE -> throw new IllegalArgumentException(type.label() + " is not a pairwise loss");
    };
  }

  /** x = βΔ, Δ = s_w − s_l. */
  private NDArray x(Pair p) {
    return p.scoreW().sub(p.scoreL()).mul(c(config.beta()));
  }

  private static NDArray logRatioW(Pair p) {
    return p.policyW().sub(p.referenceW());
  }

  private static NDArray logRatioL(Pair p) {
    return p.policyL().sub(p.referenceL());
  }

  /** A score per token: divided by the length when the log-probs are sums. */
  private NDArray perToken(NDArray score, NDArray tokens) {
    return config.aggregation() == LogProbAggregation.SUM ? score.div(tokens) : score;
  }

  /** −(1−ε) log σ(y) − ε log σ(−y). */
  private NDArray smoothed(NDArray y, double eps) {
    NDArray clean = negLogSigmoid(y);
    return eps == 0 ? clean : clean.mul(c(1 - eps)).add(negLogSigmoid(y.neg()).mul(c(eps)));
  }

  private NDArray exo(NDArray x, double eps) {
    NDArray chosen = sigmoid(x).mul(negLogSigmoid(x).neg().sub(c(Math.log1p(-eps))));
    NDArray rejected = sigmoid(x.neg()).mul(negLogSigmoid(x.neg()).neg().sub(c(Math.log(eps))));
    return chosen.add(rejected);
  }

  /** log(p / (1 − p)) of p = exp(m). */
  private NDArray logOdds(NDArray meanLogProb) {
    return meanLogProb.sub(c(1).sub(meanLogProb.exp()).log());
  }

  static NDArray negLogSigmoid(NDArray y) {
    return y.neg().getNDArrayInternal().softPlus();
  }

  private static NDArray sigmoid(NDArray y) {
    return y.getNDArrayInternal().sigmoid();
  }

  /** A long-lived scalar array, made on first use; kept out of the step's scope, which would close it. */
  NDArray c(double value) {
    return scalars.computeIfAbsent(value, v -> {
      NDArray scalar = constants.create(v.floatValue());
      NDScope.unregister(scalar);
      return scalar;
    });
  }
}
