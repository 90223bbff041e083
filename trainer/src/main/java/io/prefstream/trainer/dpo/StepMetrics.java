package io.prefstream.trainer.dpo;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one optimizer step measured, as plain numbers, under TRL's names. Means are over the step's
 * examples: for rankings "chosen" is the best response and "rejected" the worst; labelled
 * responses count as chosen when desirable and rejected when not (as TRL's KTO); accuracy is over
 * pairs and rankings. A mean over no example is NaN.
 *
 * @param examples pairs + rankings + labelled
 * @param skipped true when a non-finite loss or gradient made the step skip its update
 * @param kl KTO's z_ref, the KL estimate of the step's labelled responses; NaN without any
 * @param pairs how many pairs went into the step
 * @param rankings how many rankings of K > 2 responses
 * @param labelled how many labelled responses (KTO)
 */
public record StepMetrics(
    double loss,
    double rewardsChosen,
    double rewardsRejected,
    double rewardAccuracy,
    double logpsChosen,
    double logpsRejected,
    double gradNorm,
    double learningRate,
    long examples,
    long tokens,
    boolean skipped,
    double kl,
    long pairs,
    long rankings,
    long labelled) {

  public double rewardMargin() {
    return rewardsChosen - rewardsRejected;
  }

  /** The metrics under TRL's names. */
  public Map<String, Double> asMap() {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("loss", loss);
    m.put("rewards/chosen", rewardsChosen);
    m.put("rewards/rejected", rewardsRejected);
    m.put("rewards/accuracies", rewardAccuracy);
    m.put("rewards/margins", rewardMargin());
    m.put("logps/chosen", logpsChosen);
    m.put("logps/rejected", logpsRejected);
    m.put("grad_norm", gradNorm);
    m.put("lr", learningRate);
    if (labelled > 0) m.put("kl", kl);
    m.put("examples/pairs", (double) pairs);
    m.put("examples/rankings", (double) rankings);
    m.put("examples/labelled", (double) labelled);
    return m;
  }
}
