package io.prefstream.trainer.dpo;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.optim.AdamW;
import io.prefstream.trainer.optim.GlobalNormClipping;
import io.prefstream.trainer.optim.LinearWarmup;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One DPO optimizer step over a batch given as micro-batches: reference log-probs without a
 * gradient graph, policy log-probs with one, the loss, backward, global-norm clipping and an AdamW
 * update of the policy. The reference is never written to.
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
  private final AdamW optimizer;
  private final LinearWarmup schedule;
  private final GlobalNormClipping clipping;

  public DpoStep(CausalLm policy, CausalLm reference, DpoConfig config, LinearWarmup schedule, double maxGradNorm, double weightDecay) {
    if (policy == reference) throw new IllegalArgumentException("policy and reference must be separate models: the reference stays frozen");
    this.policy = policy;
    this.reference = reference;
    this.loss = new PreferenceLoss(config, policy.manager());
    this.optimizer = AdamW.withDefaults(weightDecay, policy.manager());
    this.schedule = schedule;
    this.clipping = new GlobalNormClipping(maxGradNorm);
    policy.parameters().values().forEach(p -> p.setRequiresGradient(true));
    optimizer.track(policy.parameters());
  }

  public AdamW optimizer() {
    return optimizer;
  }

  /** Makes one update from the micro-batches, which together form the step's batch. */
  public StepMetrics step(List<List<PreferenceExample>> microBatches) {
    double totalWeight = microBatches.stream().flatMap(List::stream).mapToDouble(PreferenceExample::weight).sum();
    Sums sums = new Sums();
    // The scope closes everything the step creates, also what the model's blocks attach to the
    // weights' manager (results belong to their first input's manager).
    try (NDScope scope = new NDScope(); NDManager stepManager = policy.manager().newSubManager()) {
      NDArray total = stepManager.create((float) totalWeight);
      for (List<PreferenceExample> micro : microBatches) {
        accumulate(micro, total, sums, stepManager);
      }
      double lr = schedule.at(optimizer.step() + 1);
      Map<String, NDArray> gradients = new LinkedHashMap<>();
      try {
        policy.parameters().forEach((name, p) -> gradients.put(name, p.getGradient()));
        double norm = clipping.clip(gradients.values(), stepManager);
        boolean finite = Double.isFinite(sums.loss) && Double.isFinite(norm);
        if (finite) optimizer.update(policy.parameters(), gradients, lr, stepManager);
        gradients.values().forEach(g -> g.set(new NDIndex("..."), 0)); // backward adds to .grad
        return sums.metrics(norm, lr, !finite);
      } finally {
        gradients.values().forEach(NDArray::close); // getGradient() hands out a new handle each call
      }
    }
  }

  private void accumulate(List<PreferenceExample> micro, NDArray totalWeight, Sums sums, NDManager stepManager) {
    try (NDManager m = stepManager.newSubManager()) {
      PreferenceBatch batch = PreferenceBatch.of(micro, m);
      LogProbAggregation aggregation = loss.config().aggregation();
      NDArray referenceLogProbs = SequenceLogProbs.of(reference, batch, aggregation); // no graph: nothing in it needs a gradient
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray policyLogProbs = SequenceLogProbs.of(policy, batch, aggregation, true); // (B, K)
        NDArray perExample = loss.perExample(policyLogProbs, referenceLogProbs); // (B)
        if (loss.config().rpoAlpha() > 0) {
          NDArray chosenTokens = chosenTokenCounts(batch);
          perExample = perExample.add(loss.chosenNll(policyLogProbs.get(new NDIndex(":, 0")), chosenTokens));
        }
        NDArray contribution = perExample.mul(batch.weights()).sum().div(totalWeight);
        collector.backward(contribution);
        sums.add(contribution.getFloat(), loss.rewards(policyLogProbs, referenceLogProbs), policyLogProbs, batch.tokens());
      }
    }
  }

  /** Response tokens of each example's best response, (B). */
  private static NDArray chosenTokenCounts(PreferenceBatch batch) {
    NDArray perRow = batch.responseMask().sum(new int[] {1}); // (N)
    return perRow.reshape(batch.examples(), batch.responsesPerExample()).get(new NDIndex(":, 0"));
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
    optimizer.close();
    loss.close();
  }
}
