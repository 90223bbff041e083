package io.prefstream.trainer.dpo;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.optim.AdamW;
import io.prefstream.trainer.optim.ClippedUpdate;
import io.prefstream.trainer.optim.LinearWarmup;
import java.util.List;

/**
 * One DPO optimizer step over a batch given as micro-batches: reference log-probs without a
 * gradient graph (none at all for reference-free losses), policy log-probs with one, the loss,
 * backward, then a {@link ClippedUpdate} of the policy. The reference is never written to.
 *
 * <p>Losses that sort the batch (aot, aot_unpaired) sort within each micro-batch, as TRL sorts
 * within each device's batch.
 *
 * <p>Gradient accumulation equals one big batch: micro-batch i contributes Σ_{b∈i} w_b·L_b / W,
 * with W the weight of the whole batch, so the accumulated gradient is that of the weighted mean.
 *
 * <p>All temporaries of a step are closed at its end (an {@code NDScope}); only numbers leave.
 */
public final class DpoStep implements AutoCloseable {
  private final CausalLm policy;
  private final CausalLm reference;
  private final PreferenceLoss loss;
  private final ClippedUpdate update;

  public DpoStep(CausalLm policy, CausalLm reference, DpoConfig config, LinearWarmup schedule, double maxGradNorm, double weightDecay) {
    if (policy == reference) throw new IllegalArgumentException("policy and reference must be separate models: the reference stays frozen");
    this.policy = policy;
    this.reference = reference;
    this.loss = new PreferenceLoss(config, policy.manager());
    this.update = new ClippedUpdate(policy.parameters(), schedule, maxGradNorm, weightDecay, policy.manager());
  }

  public AdamW optimizer() {
    return update.optimizer();
  }

  /** Makes one update from the micro-batches, which together form the step's batch. */
  public StepMetrics step(List<List<PreferenceExample>> microBatches) {
    double totalWeight = microBatches.stream().flatMap(List::stream).mapToDouble(PreferenceExample::weight).sum();
    double meanChosenTokens = microBatches.stream().flatMap(List::stream).mapToInt(e -> e.responses().get(0).length).average().orElseThrow();
    Sums sums = new Sums();
    // The scope closes everything the step creates, also what the model's blocks attach to the
    // weights' manager (results belong to their first input's manager).
    try (NDScope scope = new NDScope(); NDManager stepManager = policy.manager().newSubManager()) {
      NDArray total = stepManager.create((float) totalWeight);
      for (List<PreferenceExample> micro : microBatches) {
        accumulate(micro, total, meanChosenTokens, sums, stepManager);
      }
      ClippedUpdate.Applied applied = update.apply(sums.loss, stepManager);
      return sums.metrics(applied.gradNorm(), applied.learningRate(), applied.skipped());
    }
  }

  private void accumulate(List<PreferenceExample> micro, NDArray totalWeight, double meanChosenTokens, Sums sums, NDManager stepManager) {
    try (NDManager m = stepManager.newSubManager()) {
      PreferenceBatch batch = PreferenceBatch.of(micro, m);
      DpoConfig config = loss.config();
      // no graph: nothing in it needs a gradient; reference-free losses (SimPO, ORPO, SFT) skip the pass
      SequenceLogProbs.TokenLogProbs referenceTokens = config.needsReference() ? SequenceLogProbs.tokens(reference, batch, false, false) : null;
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        SequenceLogProbs.TokenLogProbs policyTokens = SequenceLogProbs.tokens(policy, batch, true, config.useWeighting());
        ResponseLogProbs logProbs = ResponseLogProbs.of(policyTokens, referenceTokens, batch, config.ldAlpha()); // (B, K)
        NDArray perExample = loss.perExample(logProbs, meanChosenTokens); // (B)
        NDArray contribution = perExample.mul(batch.weights()).sum().div(totalWeight);
        collector.backward(contribution);
        sums.add(contribution.getFloat(), loss.rewards(logProbs), loss.aggregated(logProbs.policy(), logProbs.tokens()), batch.tokens());
      }
    }
  }

  /** Running sums of a step's numbers over its micro-batches. */
  private static final class Sums {
    double loss;
    double rewardsChosen;
    double rewardsRejected;
    double correct;
    double logpsChosen;
    double logpsRejected;
    long examples;
    long tokens;

    void add(float lossContribution, NDArray rewards, NDArray logProbs, long batchTokens) {
      int k = (int) rewards.getShape().get(1);
      float[] r = rewards.toFloatArray();
      float[] lp = logProbs.toFloatArray();
      int b = r.length / k;
      for (int i = 0; i < b; i++) {
        float best = r[i * k];
        float worst = r[i * k + k - 1];
        rewardsChosen += best;
        rewardsRejected += worst;
        if (best > worst) correct++;
        logpsChosen += lp[i * k];
        logpsRejected += lp[i * k + k - 1];
      }
      loss += lossContribution;
      examples += b;
      tokens += batchTokens;
    }

    StepMetrics metrics(double gradNorm, double lr, boolean skipped) {
      return new StepMetrics(loss, rewardsChosen / examples, rewardsRejected / examples, correct / examples,
          logpsChosen / examples, logpsRejected / examples, gradNorm, lr, examples, tokens, skipped);
    }
  }

  @Override
  public void close() {
    update.close();
    loss.close();
  }
}
