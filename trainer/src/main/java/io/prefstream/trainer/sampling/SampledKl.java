package io.prefstream.trainer.sampling;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.prefstream.trainer.dpo.Completion;
import io.prefstream.trainer.dpo.LogProbAggregation;
import io.prefstream.trainer.dpo.PreferenceBatch;
import io.prefstream.trainer.dpo.SequenceLogProbs;
import io.prefstream.trainer.model.CausalLm;
import java.util.List;

/**
 * KL(π‖π_ref) estimated from responses sampled from the policy, the x-axis of the DPO paper's
 * reward/KL frontier (Rafailov et al. 2023, arXiv:2305.18290, §6.1 and Figure 2, left: the
 * controlled sentiment generation task, KL over whole sequences):
 *
 * <pre>
 *   KL(π‖π_ref) ≈ (1/N) Σ_i [log π(y_i|x_i) − log π_ref(y_i|x_i)],   y_i ~ π(·|x_i)
 * </pre>
 *
 * An unbiased Monte Carlo estimate of the sequence-level KL; one term may be negative, the mean
 * is not in expectation. The samples must come from {@code policy}, else it estimates something
 * else.
 */
public final class SampledKl {
  private static final int BATCH = 32;

  private SampledKl() {}

  /** @return the estimate in nats per sequence */
  public static double estimate(CausalLm policy, CausalLm reference, List<Completion> samples) {
    if (samples.isEmpty()) throw new IllegalArgumentException("the KL estimate needs at least one sample");
    double sum = 0;
    for (int start = 0; start < samples.size(); start += BATCH) {
      List<Completion> chunk = samples.subList(start, Math.min(samples.size(), start + BATCH));
      // the scope also frees what the models' blocks attach to the weights' managers
      try (NDScope scope = new NDScope(); NDManager m = policy.manager().newSubManager()) {
        PreferenceBatch batch = PreferenceBatch.ofCompletions(chunk, m);
        float[] logPi = SequenceLogProbs.of(policy, batch, LogProbAggregation.SUM).toFloatArray(); // (N, 1)
        float[] logRef = SequenceLogProbs.of(reference, batch, LogProbAggregation.SUM).toFloatArray(); // (N, 1)
        for (int i = 0; i < logPi.length; i++) sum += logPi[i] - logRef[i];
      }
    }
    return sum / samples.size();
  }
}
