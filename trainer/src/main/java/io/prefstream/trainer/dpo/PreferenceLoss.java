package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;

/**
 * The DPO family of preference losses over log-ratios ρ_k = log π(y_k|x) − log π_ref(y_k|x) of K
 * responses ranked best first. For a pair (K = 2), Δ = ρ_w − ρ_l:
 *
 * <pre>
 *   sigmoid        L = −log σ(βΔ)                                 Rafailov et al. 2023, arXiv:2305.18290, Eq. 7
 *   cdpo           L = −(1−ε) log σ(βΔ) − ε log σ(−βΔ)              Mitchell 2023, "A note on DPO with noisy preferences"
 *   ipo            L = (Δ − 1/(2β))²                               Azar et al. 2023, arXiv:2310.12036, Eq. 17
 *   hinge          L = max(0, 1 − βΔ)                              SLiC, Zhao et al. 2023, arXiv:2305.10425
 *   plackett-luce  L = −Σ_{k=1..K} log( exp(βρ_k) / Σ_{j≥k} exp(βρ_j) )   Rafailov et al. 2023, Appendix A.3
 * </pre>
 *
 * Plackett-Luce with K = 2 is exactly the sigmoid loss. Rankings of K > 2 responses always train
 * with Plackett-Luce: the pairwise losses are not defined for them. −log σ(x) is computed as
 * softplus(−x), which stays finite for large |x|.
 *
 * <p>The optional NLL term (RPO, Pang et al. 2024, arXiv:2404.19733) adds α · (−log π(y_w|x) / |y_w|).
 * Implicit rewards are r_k = β ρ_k.
 *
 * <p>Scalars are long-lived arrays on the manager given at construction: {@code mul(Number)} on an
 * array in the gradient graph is unsafe in DJL's PyTorch engine on CPU.
 */
public final class PreferenceLoss implements AutoCloseable {
  private final DpoConfig config;
  private final NDManager constants;
  private final NDArray beta;
  private final NDArray negBeta;
  private final NDArray smoothing;
  private final NDArray oneMinusSmoothing;
  private final NDArray ipoTarget;
  private final NDArray one;
  private final NDArray rpoAlpha;

  public PreferenceLoss(DpoConfig config, NDManager parent) {
    this.config = config;
    this.constants = parent.newSubManager();
    this.beta = scalar(config.beta());
    this.negBeta = scalar(-config.beta());
    this.smoothing = scalar(config.labelSmoothing());
    this.oneMinusSmoothing = scalar(1 - config.labelSmoothing());
    this.ipoTarget = scalar(1 / (2 * config.beta()));
    this.one = scalar(1);
    this.rpoAlpha = scalar(config.rpoAlpha());
  }

  public DpoConfig config() {
    return config;
  }

  /**
   * @param policyLogProbs (B, K) log π of each response, best first
   * @param referenceLogProbs (B, K) log π_ref of each response
   * @return (B) the loss of each example, unweighted
   */
  public NDArray perExample(NDArray policyLogProbs, NDArray referenceLogProbs) {
    NDArray ratios = policyLogProbs.sub(referenceLogProbs); // ρ (B, K)
    if (ratios.getShape().get(1) > 2 || config.loss() == LossType.PLACKETT_LUCE) return plackettLuce(ratios);
    NDArray delta = ratios.get(new NDIndex(":, 0")).sub(ratios.get(new NDIndex(":, 1"))); // Δ (B)
    return switch (config.loss()) {
      case SIGMOID -> softPlus(delta.mul(negBeta));
      case CDPO -> softPlus(delta.mul(negBeta)).mul(oneMinusSmoothing).add(softPlus(delta.mul(beta)).mul(smoothing));
      case IPO -> delta.sub(ipoTarget).square();
      case HINGE -> one.sub(delta.mul(beta)).getNDArrayInternal().relu();
      case PLACKETT_LUCE -> throw new IllegalStateException("handled above");
    };
  }

  /** −Σ_k [βρ_k − log Σ_{j≥k} exp(βρ_j)] for each row of ρ (B, K). */
  private NDArray plackettLuce(NDArray ratios) {
    NDArray rewards = ratios.mul(beta); // (B, K)
    long k = rewards.getShape().get(1);
    NDArray loss = null;
    for (long i = 0; i < k - 1; i++) { // the last position's term is log 1 = 0
      NDArray rest = rewards.get(new NDIndex(":, {}:", i)); // (B, K-i)
      NDArray term = logSumExp(rest).sub(rewards.get(new NDIndex(":, {}", i))); // (B)
      loss = loss == null ? term : loss.add(term);
    }
    return loss;
  }

  /** The RPO term α · (−log π(y_w|x) / |y_w|) per example; (B) from chosen log-prob sums and token counts. */
  public NDArray chosenNll(NDArray chosenLogProbSums, NDArray chosenTokens) {
    return chosenLogProbSums.neg().div(chosenTokens).mul(rpoAlpha);
  }

  /** The implicit rewards β(log π − log π_ref), same shape as the inputs. */
  public NDArray rewards(NDArray policyLogProbs, NDArray referenceLogProbs) {
    return policyLogProbs.sub(referenceLogProbs).mul(beta);
  }

  private static NDArray softPlus(NDArray x) {
    return x.getNDArrayInternal().softPlus();
  }

  private static NDArray logSumExp(NDArray x) {
    NDArray max = x.max(new int[] {1}, true).stopGradient(); // the result does not depend on it
    return x.sub(max).exp().sum(new int[] {1}).log().add(max.squeeze(1));
  }

  private NDArray scalar(double value) {
    return constants.create((float) value);
  }

  @Override
  public void close() {
    constants.close();
  }
}
