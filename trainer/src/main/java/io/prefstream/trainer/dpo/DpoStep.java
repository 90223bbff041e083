package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.ThreadGradientCollector;
import io.prefstream.trainer.model.WorkerModel;
import io.prefstream.trainer.optim.AdamW;
import io.prefstream.trainer.optim.ClippedUpdate;
import io.prefstream.trainer.optim.LinearWarmup;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * One DPO optimizer step over a batch given as micro-batches: reference log-probs without a
 * gradient graph (none at all for reference-free losses), policy log-probs with one, the loss,
 * backward, then a {@link ClippedUpdate} of the policy. The reference is never written to here
 * (TR-DPO's {@link ReferenceSync} mixes the policy into it between steps).
 *
 * <p>Losses that sort the batch (aot, aot_unpaired) sort within each micro-batch, as TRL sorts
 * within each device's batch.
 *
 * <p>Gradient accumulation equals one big batch: micro-batch i contributes Σ_{b∈i} w_b·L_b / W,
 * with W the weight of the whole batch, so the accumulated gradient is that of the weighted mean.
 *
 * <p>With several workers ({@link DataParallel}) micro-batches compute at once, each worker's
 * gradients in its own view of the policy ({@link WorkerModel}), added into the policy's in a fixed
 * order before the update: the same update as one worker up to float rounding, and the same bit for
 * bit from run to run.
 *
 * <p>All temporaries of a step are closed at its end (an {@code NDScope}); only numbers leave.
 */
public final class DpoStep implements AutoCloseable {
  private final CausalLm policy;
  private final CausalLm reference;
  private final PreferenceLoss loss;
  private final KtoLoss kto;
  private final ClippedUpdate update;
  private final PreferenceBatch.Layout layout;
  private final DataParallel parallel;
  private final boolean splittable;

  public DpoStep(CausalLm policy, CausalLm reference, DpoConfig config, LinearWarmup schedule, double maxGradNorm, double weightDecay) {
    this(policy, reference, config, schedule, maxGradNorm, weightDecay, PreferenceBatch.Layout.PACKED, 1);
  }

  /**
   * @param layout how preference micro-batches are laid out (all give the same update; benchmarks compare them)
   * @param workers how many micro-batches (or parts of one) compute at once, each on its own thread
   *     ({@link DataParallel}); 1 for a model whose passes cannot run at once (LoRA's)
   */
  public DpoStep(CausalLm policy, CausalLm reference, DpoConfig config, LinearWarmup schedule, double maxGradNorm, double weightDecay,
      PreferenceBatch.Layout layout, int workers) {
    if (policy == reference) throw new IllegalArgumentException("policy and reference must be separate models: the reference stays frozen");
    this.policy = policy;
    this.reference = reference;
    this.loss = new PreferenceLoss(config, policy.manager());
    this.kto = new KtoLoss(config, policy.manager());
    this.parallel = new DataParallel(workers);
    this.update = new ClippedUpdate(policy.parameters(), schedule, maxGradNorm, weightDecay, policy.manager(), parallel);
    this.layout = layout;
    // a loss that compares a micro-batch's examples with each other would change if one were split
    this.splittable = !config.sortsTheBatch();
  }

  /** How many micro-batches (or parts of one) compute at once. */
  public int workers() {
    return parallel.workers();
  }

  public AdamW optimizer() {
    return update.optimizer();
  }

  /** Makes one update from the micro-batches of pairs and rankings, which together form the step's batch. */
  public StepMetrics step(List<List<PreferenceExample>> microBatches) {
    return step(microBatches, List.of());
  }

  /**
   * Makes one update from preference examples and labelled responses together: the step's loss is
   * the weighted mean over all its examples of each one's loss, the preference loss for pairs and
   * rankings, KTO's for labelled responses.
   */
  public StepMetrics step(List<List<PreferenceExample>> preferenceMicroBatches, List<List<LabelledExample>> labelledMicroBatches) {
    double totalWeight = preferenceMicroBatches.stream().flatMap(List::stream).mapToDouble(PreferenceExample::weight).sum()
        + labelledMicroBatches.stream().flatMap(List::stream).mapToDouble(LabelledExample::weight).sum();
    if (!(totalWeight > 0)) throw new IllegalArgumentException("a step needs at least one example");
    double meanChosenTokens = preferenceMicroBatches.stream().flatMap(List::stream).mapToInt(e -> e.responses().get(0).length).average().orElse(1);
    List<List<Consumer<Sums>>> perWorker = new ArrayList<>(); // each worker's micro-batch results, in its order
    for (int w = 0; w < parallel.workers(); w++) perWorker.add(new ArrayList<>());
    List<WorkerModel> views = new ArrayList<>();
    // The scope closes everything the step creates, also what the model's blocks attach to the
    // weights' manager (results belong to their first input's manager).
    try (NDScope scope = new NDScope(); NDManager stepManager = policy.manager().newSubManager()) {
      List<CausalLm> models = workerModels(views);
      NDArray total = stepManager.create((float) totalWeight);
      parallel.run(preferenceMicroBatches, models, PreferenceExample::rowTokens, splittable,
          (model, micro, worker) -> accumulate(model, micro, total, meanChosenTokens, perWorker.get(worker), stepManager));
      double z = Double.NaN;
      if (!labelledMicroBatches.isEmpty()) {
        double referencePoint = referencePoint(labelledMicroBatches, models, stepManager);
        z = referencePoint;
        parallel.run(labelledMicroBatches, models, LabelledExample::tokens, true,
            (model, micro, worker) -> accumulateLabelled(model, micro, total, referencePoint, perWorker.get(worker), stepManager));
      }
      // in the workers' order: the same sums every run
      views.forEach(WorkerModel::addGradientsToBase);
      Sums sums = new Sums();
      perWorker.forEach(results -> results.forEach(result -> result.accept(sums)));
      sums.kl = z;
      ClippedUpdate.Applied applied = update.apply(sums.loss, stepManager);
      return sums.metrics(applied.gradNorm(), applied.learningRate(), applied.skipped());
    } catch (RuntimeException | Error e) {
      try {
        update.discard(); // a worker may have added its part of the gradient before another failed
      } catch (RuntimeException discarding) {
        e.addSuppressed(discarding); // the step's own failure is the one to see
      }
      throw e;
    } finally {
      views.forEach(WorkerModel::close);
    }
  }

  /** The policy for worker 0, a view of it for each other worker; the policy alone when it has no views (LoRA). */
  private List<CausalLm> workerModels(List<WorkerModel> views) {
    for (int w = 1; w < parallel.workers(); w++) {
      Optional<WorkerModel> view = policy.forWorker();
      if (view.isEmpty()) break;
      views.add(view.get());
    }
    List<CausalLm> models = new ArrayList<>();
    models.add(policy);
    models.addAll(views);
    return models;
  }

  private void accumulate(CausalLm model, List<PreferenceExample> micro, NDArray totalWeight, double meanChosenTokens, List<Consumer<Sums>> results, NDManager stepManager) {
    // the scope frees the micro-batch's temporaries now, also those attached to the weights' manager
    try (NDScope microScope = new NDScope(); NDManager m = stepManager.newSubManager()) {
      PreferenceBatch batch = PreferenceBatch.of(micro, layout, m);
      DpoConfig config = loss.config();
      // summed log-probs: the loss aggregates them itself, with the token counts
      SequenceLogProbs.Options options = new SequenceLogProbs.Options(LogProbAggregation.SUM, config.ldAlpha(), config.useWeighting());
      // no graph: nothing in it needs a gradient; reference-free losses (SimPO, ORPO, SFT) skip the pass
      NDArray referenceLogProbs = config.needsReference()
          ? SequenceLogProbs.of(reference, batch, new SequenceLogProbs.Options(LogProbAggregation.SUM, config.ldAlpha(), false)).logProbs() : null;
      NDArray tokens = batch.responseLengths(); // (B, K)
      double[] contribution = {0};
      try (GradientCollector collector = new ThreadGradientCollector()) {
        SequenceLogProbs.Scored policyLogProbs = SequenceLogProbs.backward(model, batch, options, collector, (logProbs, wpoWeights, first) -> {
          NDIndex examples = new NDIndex("{}:{}", first, first + logProbs.getShape().get(0));
          ResponseLogProbs part = new ResponseLogProbs(logProbs, referenceLogProbs == null ? null : referenceLogProbs.get(examples), tokens.get(examples), wpoWeights);
          NDArray weighted = loss.perExample(part, meanChosenTokens).mul(batch.weights().get(examples)).sum().div(totalWeight); // (b) -> scalar
          contribution[0] += weighted.getFloat();
          return weighted;
        }); // (B, K)
        ResponseLogProbs all = new ResponseLogProbs(policyLogProbs.logProbs(), referenceLogProbs, tokens, null);
        float[] rewards = loss.rewards(all).toFloatArray();
        float[] aggregated = loss.aggregated(all.policy(), all.tokens()).toFloatArray();
        int k = batch.responsesPerExample();
        double lossContribution = contribution[0];
        long batchTokens = batch.tokens();
        results.add(sums -> sums.add(lossContribution, rewards, aggregated, k, batchTokens));
      }
    }
  }

  /**
   * KTO's z_ref over all the step's labelled responses: each prompt with the response of the one
   * before it (the first with the last's), as TRL pairs them; forward passes without a graph, in
   * the micro-batches' sizes, on the workers.
   */
  private double referencePoint(List<List<LabelledExample>> microBatches, List<CausalLm> models, NDManager stepManager) {
    List<Completion> mismatched = KtoLoss.mismatched(microBatches.stream().flatMap(List::stream).toList());
    float[] policyLogProbs = new float[mismatched.size()];
    float[] referenceLogProbs = new float[mismatched.size()];
    List<List<Integer>> indices = new ArrayList<>(); // the completions' positions, in the micro-batches' sizes
    int start = 0;
    for (List<LabelledExample> micro : microBatches) {
      indices.add(IntStream.range(start, start + micro.size()).boxed().toList());
      start += micro.size();
    }
    parallel.run(indices, models, i -> mismatched.get(i).length(), true, (model, part, worker) -> {
      try (NDManager m = stepManager.newSubManager()) {
        PreferenceBatch batch = PreferenceBatch.ofCompletions(part.stream().map(mismatched::get).toList(), m);
        float[] policy = SequenceLogProbs.of(model, batch, LogProbAggregation.SUM).toFloatArray();
        float[] reference = SequenceLogProbs.of(this.reference, batch, LogProbAggregation.SUM).toFloatArray();
        for (int j = 0; j < part.size(); j++) { // each position is one worker's: no two write the same
          policyLogProbs[part.get(j)] = policy[j];
          referenceLogProbs[part.get(j)] = reference[j];
        }
      }
    });
    return KtoLoss.referencePoint(policyLogProbs, referenceLogProbs);
  }

  private void accumulateLabelled(CausalLm model, List<LabelledExample> micro, NDArray totalWeight, double z, List<Consumer<Sums>> results, NDManager stepManager) {
    try (NDScope microScope = new NDScope(); NDManager m = stepManager.newSubManager()) {
      PreferenceBatch batch = PreferenceBatch.ofCompletions(micro.stream().map(LabelledExample::completion).toList(), m);
      float[] weights = new float[micro.size()];
      float[] desirable = new float[micro.size()];
      for (int i = 0; i < micro.size(); i++) {
        weights[i] = (float) micro.get(i).weight();
        desirable[i] = micro.get(i).desirable() ? 1 : 0;
      }
      NDArray weightArray = m.create(weights);
      NDArray desirableArray = m.create(desirable);
      NDArray referenceLogProbs = SequenceLogProbs.of(reference, batch, LogProbAggregation.SUM).reshape(micro.size()); // (B), no graph
      double[] contribution = {0};
      try (GradientCollector collector = new ThreadGradientCollector()) {
        NDArray policyLogProbs = SequenceLogProbs.backward(model, batch, LogProbAggregation.SUM, collector, (logProbs, first) -> {
          NDIndex examples = new NDIndex("{}:{}", first, first + logProbs.getShape().get(0));
          NDArray perExample = kto.perExample(logProbs.reshape(-1), referenceLogProbs.get(examples), desirableArray.get(examples), z); // (b)
          NDArray weighted = perExample.mul(weightArray.get(examples)).sum().div(totalWeight);
          contribution[0] += weighted.getFloat();
          return weighted;
        });
        float[] policy = policyLogProbs.toFloatArray();
        float[] reference = referenceLogProbs.toFloatArray();
        double lossContribution = contribution[0];
        long batchTokens = batch.tokens();
        results.add(sums -> sums.addLabelled(lossContribution, policy, reference, desirable, kto, batchTokens));
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
    long chosen;
    long rejected;
    long pairs;
    long rankings;
    long labelled;
    long tokens;
    double kl = Double.NaN;

    /** A micro-batch's rewards and aggregated log-probs, (B, K) flat, best response first. */
    void add(double lossContribution, float[] r, float[] lp, int k, long batchTokens) {
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
      chosen += b;
      rejected += b;
      if (k == 2) pairs += b;
      else rankings += b;
      tokens += batchTokens;
    }

    /** Desirable responses count as chosen, undesirable ones as rejected, as TRL's KTO metrics. */
    void addLabelled(double lossContribution, float[] policy, float[] reference, float[] desirable, KtoLoss kto, long batchTokens) {
      for (int i = 0; i < policy.length; i++) {
        double reward = kto.reward(policy[i], reference[i]);
        if (desirable[i] == 1) {
          rewardsChosen += reward;
          logpsChosen += policy[i];
          chosen++;
        } else {
          rewardsRejected += reward;
          logpsRejected += policy[i];
          rejected++;
        }
      }
      loss += lossContribution;
      labelled += policy.length;
      tokens += batchTokens;
    }

    StepMetrics metrics(double gradNorm, double lr, boolean skipped) {
      long preferences = pairs + rankings;
      return new StepMetrics(loss, mean(rewardsChosen, chosen), mean(rewardsRejected, rejected), mean(correct, preferences),
          mean(logpsChosen, chosen), mean(logpsRejected, rejected), gradNorm, lr, preferences + labelled, tokens, skipped, kl, pairs, rankings, labelled);
    }

    private static double mean(double sum, long count) {
      return count == 0 ? Double.NaN : sum / count;
    }
  }

  @Override
  public void close() {
    parallel.close();
    update.close();
    loss.close();
    kto.close();
  }
}
