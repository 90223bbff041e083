package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.prefstream.trainer.model.CausalLm;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores examples without training: log-probs under policy and reference, and the loss. The
 * examples form one batch: losses that read the batch (aot's sorting, sft's mean chosen length)
 * see all of them; examples with different numbers of responses are scored as separate batches.
 */
public final class PreferenceScorer {
  private static final int FORWARD_BATCH = 8;

  private final CausalLm policy;
  private final CausalLm reference;
  private final PreferenceLoss loss;

  public PreferenceScorer(CausalLm policy, CausalLm reference, PreferenceLoss loss) {
    this.policy = policy;
    this.reference = reference;
    this.loss = loss;
  }

  /** Scores in input order. */
  public List<PreferenceScore> score(List<PreferenceExample> examples) {
    Map<Integer, List<Integer>> byResponses = new LinkedHashMap<>();
    for (int i = 0; i < examples.size(); i++) byResponses.computeIfAbsent(examples.get(i).responses().size(), k -> new ArrayList<>()).add(i);
    PreferenceScore[] scores = new PreferenceScore[examples.size()];
    for (List<Integer> group : byResponses.values()) {
      List<PreferenceExample> members = group.stream().map(examples::get).toList();
      List<PreferenceScore> scored = scoreGroup(members);
      for (int i = 0; i < group.size(); i++) scores[group.get(i)] = scored.get(i);
    }
    return Arrays.asList(scores);
  }

  /** Examples with K responses each: forward passes in small batches, then the loss over all of them. */
  private List<PreferenceScore> scoreGroup(List<PreferenceExample> examples) {
    int k = examples.get(0).responses().size();
    int n = examples.size() * k;
    float[] policySums = new float[n];
    float[] referenceSums = new float[n];
    float[] tokens = new float[n];
    float[] wpo = new float[n];
    DpoConfig config = loss.config();
    for (int start = 0; start < examples.size(); start += FORWARD_BATCH) {
      List<PreferenceExample> part = examples.subList(start, Math.min(examples.size(), start + FORWARD_BATCH));
      // the scope also frees what the model's blocks attach to the weights' manager
      try (NDScope scope = new NDScope(); NDManager m = policy.manager().newSubManager()) {
        PreferenceBatch batch = PreferenceBatch.of(part, m);
        SequenceLogProbs.Scored policyScored = SequenceLogProbs.of(policy, batch, new SequenceLogProbs.Options(LogProbAggregation.SUM, config.ldAlpha(), config.useWeighting()));
        SequenceLogProbs.Scored referenceScored = SequenceLogProbs.of(reference, batch, new SequenceLogProbs.Options(LogProbAggregation.SUM, config.ldAlpha(), false));
        int offset = start * k;
        copy(policyScored.logProbs(), policySums, offset);
        copy(referenceScored.logProbs(), referenceSums, offset);
        copy(batch.responseLengths(), tokens, offset);
        if (policyScored.wpoWeights() != null) copy(policyScored.wpoWeights(), wpo, offset);
      }
    }
    double meanChosenTokens = examples.stream().mapToInt(e -> e.responses().get(0).length).average().orElseThrow();
    try (NDManager m = policy.manager().newSubManager()) {
      Shape bk = new Shape(examples.size(), k);
      ResponseLogProbs all = new ResponseLogProbs(m.create(policySums, bk), m.create(referenceSums, bk), m.create(tokens, bk),
          config.useWeighting() ? m.create(wpo, bk) : null);
      float[] losses = loss.perExample(all, meanChosenTokens).toFloatArray();
      float[] p = loss.aggregated(all.policy(), all.tokens()).toFloatArray();
      float[] r = loss.aggregated(all.reference(), all.tokens()).toFloatArray();
      List<PreferenceScore> out = new ArrayList<>(examples.size());
      for (int b = 0; b < examples.size(); b++) {
        double[] pb = new double[k];
        double[] rb = new double[k];
        for (int j = 0; j < k; j++) {
          pb[j] = p[b * k + j];
          rb[j] = r[b * k + j];
        }
        out.add(new PreferenceScore(examples.get(b).id(), pb, rb, losses[b], config.beta()));
      }
      return out;
    }
  }

  private static void copy(NDArray values, float[] into, int offset) {
    float[] v = values.toFloatArray();
    System.arraycopy(v, 0, into, offset, v.length);
  }
}
