package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import java.util.ArrayList;
import java.util.List;

/**
 * The preference loss of a batch of K responses ranked best first: the weighted sum of the
 * configured terms (TRL's loss_type with loss_weights), each one of the pairwise losses of {@link
 * PairwiseLosses} or
 *
 * <pre>
 *   sft            −log π(y_w|x) / n̄_w     n̄_w: the batch's mean chosen length, so that the batch's
 *                                           mean is TRL's cross-entropy over all its chosen tokens
 *   plackett-luce  −Σ_{k=1..K} log( exp(βs_k) / Σ_{j≥k} exp(βs_j) )   Rafailov et al. 2023, Appendix A.3
 *   orpo           the sft term + ORPO's odds-ratio term (Hong et al. 2024, Eq. 6)
 * </pre>
 *
 * plus, with {@code dpo.rpo.alpha} = α > 0, RPO's α · (−log π(y_w|x) / |y_w|) (Pang et al. 2024,
 * arXiv:2404.19733). Plackett-Luce with K = 2 is exactly the sigmoid loss.
 *
 * <p>Rankings: a pairwise term of a ranking of K > 2 responses is the mean of that loss over the
 * K(K−1)/2 pairs the ranking implies (y_i ≻ y_j for i < j), so it has the scale of one pair's
 * loss, whatever K; a batch never mixes two losses' scales. "Chosen" is the best response.
 *
 * <p>WPO (Zhou et al. 2024, Eq. 2) multiplies each pair's loss by the product of its two
 * responses' weights, each term's, as TRL.
 */
public final class PreferenceLoss implements AutoCloseable {
  private final DpoConfig config;
  private final NDManager constants;
  private final PairwiseLosses pairwise;

  public PreferenceLoss(DpoConfig config, NDManager parent) {
    this.config = config;
    this.constants = parent.newSubManager();
    this.pairwise = new PairwiseLosses(config, constants);
  }

  public DpoConfig config() {
    return config;
  }

  /**
   * @param meanChosenTokens the mean length of the best responses over the whole step's batch
   *     (the sft and orpo terms divide by it)
   * @return (B) the loss of each example, unweighted
   */
  public NDArray perExample(ResponseLogProbs logProbs, double meanChosenTokens) {
    if (config.needsReference() && logProbs.reference() == null) throw new IllegalArgumentException(LossTerm.describe(config.losses()) + " needs reference log-probs");
    NDArray policy = aggregated(logProbs.policy(), logProbs.tokens()); // (B, K)
    NDArray reference = logProbs.reference() == null ? null : aggregated(logProbs.reference(), logProbs.tokens());
    NDArray scores = reference == null ? null : scores(policy.sub(reference));
    NDArray means = logProbs.policy().div(logProbs.tokens());
    // a per-call scalar, not a cached constant: the mean length changes every step
    NDArray chosenNll = logProbs.policy().get(new NDIndex(":, 0")).neg().div(logProbs.tokens().getManager().create((float) meanChosenTokens)); // (B)
    NDArray total = null;
    for (LossTerm term : config.losses()) {
      NDArray loss = switch (term.type()) {
        case SFT -> weighted(chosenNll, logProbs.wpoWeights(), 0, logProbs.responsesPerExample() - 1);
        case PLACKETT_LUCE -> weighted(plackettLuce(scores), logProbs.wpoWeights(), 0, logProbs.responsesPerExample() - 1);
        case ORPO -> weighted(chosenNll, logProbs.wpoWeights(), 0, logProbs.responsesPerExample() - 1)
            .add(overImpliedPairs(term.type(), policy, reference, scores, means, logProbs));
        default -> overImpliedPairs(term.type(), policy, reference, scores, means, logProbs);
      };
      loss = term.weight() == 1 ? loss : loss.mul(pairwise.c(term.weight()));
      total = total == null ? loss : total.add(loss);
    }
    if (config.rpoAlpha() > 0) total = total.add(logProbs.policy().get(new NDIndex(":, 0")).neg().div(logProbs.tokens().get(new NDIndex(":, 0"))).mul(pairwise.c(config.rpoAlpha())));
    return total;
  }

  /** The mean of one pairwise loss over the pairs (i, j), i < j, of each example's ranking. */
  private NDArray overImpliedPairs(LossType type, NDArray policy, NDArray reference, NDArray scores, NDArray means, ResponseLogProbs logProbs) {
    int k = logProbs.responsesPerExample();
    List<NDArray> perPair = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      for (int j = i + 1; j < k; j++) {
        PairwiseLosses.Pair pair = new PairwiseLosses.Pair(
            column(policy, i), column(policy, j), column(reference, i), column(reference, j), column(scores, i), column(scores, j),
            column(means, i), column(means, j), column(logProbs.tokens(), i), column(logProbs.tokens(), j));
        perPair.add(weighted(pairwise.of(type, pair), logProbs.wpoWeights(), i, j));
      }
    }
    if (perPair.size() == 1) return perPair.get(0);
    return NDArrays.stack(new NDList(perPair), 1).mean(new int[] {1});
  }

  private static NDArray weighted(NDArray loss, NDArray wpoWeights, int i, int j) {
    if (wpoWeights == null) return loss;
    return loss.mul(column(wpoWeights, i).mul(column(wpoWeights, j)).stopGradient());
  }

  private static NDArray column(NDArray a, int k) {
    return a == null ? null : a.get(new NDIndex(":, {}", k));
  }

  /** Summed log-probs (B, K) as the config aggregates them: TRL's logps/chosen and logps/rejected for the policy's. */
  public NDArray aggregated(NDArray sums, NDArray tokens) {
    return switch (config.aggregation()) {
      case SUM -> sums;
      case MEAN -> sums.div(tokens);
    };
  }

  /** s = f'(ρ) of the configured f-divergence. */
  private NDArray scores(NDArray ratios) {
    return switch (config.fDivergence()) {
      case REVERSE_KL -> ratios;
      case FORWARD_KL -> ratios.neg().exp().neg();
      case JS_DIVERGENCE -> PairwiseLosses.negLogSigmoid(ratios).neg();
      case ALPHA_DIVERGENCE -> {
        double alpha = config.alphaDivergenceCoef();
        if (Math.abs(alpha - 1) < 1e-6) yield ratios;
        yield ratios.mul(pairwise.c(alpha - 1)).minimum(pairwise.c(80)).exp().div(pairwise.c(alpha - 1));
      }
    };
  }

  /** −Σ_k [βs_k − log Σ_{j≥k} exp(βs_j)] for each row of s (B, K). */
  private NDArray plackettLuce(NDArray scores) {
    NDArray rewards = scores.mul(pairwise.c(config.beta())); // (B, K)
    long k = rewards.getShape().get(1);
    NDArray loss = null;
    for (long i = 0; i < k - 1; i++) { // the last position's term is log 1 = 0
      NDArray rest = rewards.get(new NDIndex(":, {}:", i)); // (B, K-i)
      NDArray term = logSumExp(rest).sub(rewards.get(new NDIndex(":, {}", i))); // (B)
      loss = loss == null ? term : loss.add(term);
    }
    return loss;
  }

  /**
   * The implicit rewards β(log π − log π_ref), (B, K); without a reference, β log π (as TRL's CPO
   * and ORPO trainers report them).
   */
  public NDArray rewards(ResponseLogProbs logProbs) {
    NDArray policy = aggregated(logProbs.policy(), logProbs.tokens());
    NDArray ratios = logProbs.reference() == null ? policy : policy.sub(aggregated(logProbs.reference(), logProbs.tokens()));
    return ratios.mul(pairwise.c(config.beta()));
  }

  private static NDArray logSumExp(NDArray x) {
    NDArray max = x.max(new int[] {1}, true).stopGradient(); // the result does not depend on it
    return x.sub(max).exp().sum(new int[] {1}).log().add(max.squeeze(1));
  }

  @Override
  public void close() {
    constants.close();
  }
}
