package io.prefstream.trainer.dpo;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one optimizer step measured, as plain numbers. Means are over the step's examples; for
 * rankings "chosen" is the best response and "rejected" the worst.
 *
 * @param skipped true when a non-finite loss or gradient made the step skip its update
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
    boolean skipped) {

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
    return m;
  }
}
