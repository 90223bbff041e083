package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * KTO, Kahneman-Tversky Optimization (Ethayarajh et al. 2024, arXiv:2402.01306, Eq. 8), as TRL's
 * KTOTrainer computes it. With ρ = log π(y|x) − log π_ref(y|x) summed over the response:
 *
 * <pre>
 *   z_ref = max(0, mean_i [log π(y'_i|x_i) − log π_ref(y'_i|x_i)])   y'_i: the batch's responses shifted by one,
 *                                                                 answers to other prompts; no gradient
 *   desirable y:    L = λ_D (1 − σ(β(ρ − z_ref)))
 *   undesirable y:  L = λ_U (1 − σ(β(z_ref − ρ)))
 * </pre>
 *
 * z_ref estimates KL(π‖π_ref) from mismatched pairs: the reference point a response must beat to
 * count as a gain. β is {@code dpo.beta}; λ_D and λ_U are {@code kto.desirable.weight} and {@code
 * kto.undesirable.weight} (TRL: desirable_weight, undesirable_weight; the paper suggests λ_D·n_D /
 * (λ_U·n_U) in [1, 4/3]).
 */
public final class KtoLoss implements AutoCloseable {
  private final double beta;
  private final NDManager constants;
  private final NDArray betaArray;
  private final NDArray one;
  private final NDArray desirableWeight;
  private final NDArray undesirableWeight;

  public KtoLoss(DpoConfig config, NDManager parent) {
    this.beta = config.beta();
    this.constants = parent.newSubManager();
    this.betaArray = constants.create((float) config.beta());
    this.one = constants.create(1f);
    this.desirableWeight = constants.create((float) config.ktoDesirableWeight());
    this.undesirableWeight = constants.create((float) config.ktoUndesirableWeight());
  }

  /**
   * Each prompt with the response of the example before it (the first with the last's), as TRL's
   * KTOTrainer pairs them. The borrowed response is cut (keeping its start, as truncation does) so
   * that the pair is no longer than the longer of the two examples it comes from: those were
   * checked against the model, and a long prompt with another example's long response need not fit.
   */
  public static List<Completion> mismatched(List<LabelledExample> examples) {
    List<Completion> out = new ArrayList<>(examples.size());
    for (int i = 0; i < examples.size(); i++) {
      LabelledExample own = examples.get(i);
      LabelledExample before = examples.get(Math.floorMod(i - 1, examples.size()));
      int room = Math.max(own.completion().length(), before.completion().length()) - own.prompt().length;
      out.add(new Completion(own.prompt(), Arrays.copyOf(before.response(), Math.min(before.response().length, room))));
    }
    return out;
  }

  /** z_ref from the mismatched pairs' summed log-probs, (N) each: a number, no gradient. */
  public static double referencePoint(float[] mismatchedPolicy, float[] mismatchedReference) {
    double sum = 0;
    for (int i = 0; i < mismatchedPolicy.length; i++) sum += mismatchedPolicy[i] - mismatchedReference[i];
    return Math.max(0, sum / mismatchedPolicy.length);
  }

  /**
   * @param policy (B) log π(y|x), summed
   * @param reference (B) log π_ref(y|x), summed
   * @param desirable (B) 1 for desirable, 0 for undesirable
   * @param referencePoint z_ref
   * @return (B) the loss of each example, unweighted
   */
  public NDArray perExample(NDArray policy, NDArray reference, NDArray desirable, double referencePoint) {
    NDArray z = policy.getManager().create((float) referencePoint); // changes every step: not a cached constant
    NDArray ratios = policy.sub(reference);
    NDArray gain = one.sub(ratios.sub(z).mul(betaArray).getNDArrayInternal().sigmoid()).mul(desirableWeight);
    NDArray loss = one.sub(z.sub(ratios).mul(betaArray).getNDArrayInternal().sigmoid()).mul(undesirableWeight);
    return gain.mul(desirable).add(loss.mul(one.sub(desirable)));
  }

  /** The implicit reward β·ρ of one response. */
  public double reward(double policyLogProb, double referenceLogProb) {
    return beta * (policyLogProb - referenceLogProb);
  }

  @Override
  public void close() {
    constants.close();
  }
}
