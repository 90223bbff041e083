package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.prefstream.trainer.model.CausalLm;
import java.util.ArrayList;
import java.util.List;

/** Scores examples without training: log-probs under policy and reference, and the loss. */
public final class PreferenceScorer {
  private static final int BATCH = 8;

  private final CausalLm policy;
  private final CausalLm reference;
  private final PreferenceLoss loss;

  public PreferenceScorer(CausalLm policy, CausalLm reference, PreferenceLoss loss) {
    this.policy = policy;
    this.reference = reference;
    this.loss = loss;
  }

  /** Scores in input order; consecutive examples with as many responses share a forward pass. */
  public List<PreferenceScore> score(List<PreferenceExample> examples) {
    List<PreferenceScore> scores = new ArrayList<>(examples.size());
    int start = 0;
    while (start < examples.size()) {
      int k = examples.get(start).responses().size();
      int end = start;
      while (end < examples.size() && end - start < BATCH && examples.get(end).responses().size() == k) end++;
      scores.addAll(scoreBatch(examples.subList(start, end)));
      start = end;
    }
    return scores;
  }

  private List<PreferenceScore> scoreBatch(List<PreferenceExample> examples) {
    // the scope also frees what the model's blocks attach to the weights' manager
    try (NDScope scope = new NDScope(); NDManager m = policy.manager().newSubManager()) {
      PreferenceBatch batch = PreferenceBatch.of(examples, m);
      LogProbAggregation aggregation = loss.config().aggregation();
      NDArray policyLogProbs = SequenceLogProbs.of(policy, batch, aggregation);
      NDArray referenceLogProbs = SequenceLogProbs.of(reference, batch, aggregation);
      float[] losses = loss.perExample(policyLogProbs, referenceLogProbs).toFloatArray();
      float[] p = policyLogProbs.toFloatArray();
      float[] r = referenceLogProbs.toFloatArray();
      int k = batch.responsesPerExample();
      List<PreferenceScore> out = new ArrayList<>(examples.size());
      for (int b = 0; b < examples.size(); b++) {
        double[] pb = new double[k];
        double[] rb = new double[k];
        for (int j = 0; j < k; j++) {
          pb[j] = p[b * k + j];
          rb[j] = r[b * k + j];
        }
        out.add(new PreferenceScore(examples.get(b).id(), pb, rb, losses[b], loss.config().beta()));
      }
      return out;
    }
  }
}
