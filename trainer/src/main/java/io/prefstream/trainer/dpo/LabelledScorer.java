package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.prefstream.trainer.model.CausalLm;
import java.util.ArrayList;
import java.util.List;

/**
 * Scores labelled responses without training: log-probs under policy and reference, implicit
 * reward and KTO loss. The examples form one batch, which z_ref is estimated over.
 */
public final class LabelledScorer {
  private static final int FORWARD_BATCH = 8;

  /** One labelled response's numbers; {@code kl} is the batch's z_ref. */
  public record LabelledScore(String id, boolean desirable, double policyLogProb, double referenceLogProb, double reward, double loss, double kl) {}

  private final CausalLm policy;
  private final CausalLm reference;
  private final KtoLoss loss;

  public LabelledScorer(CausalLm policy, CausalLm reference, KtoLoss loss) {
    this.policy = policy;
    this.reference = reference;
    this.loss = loss;
  }

  /** Scores in input order. */
  public List<LabelledScore> score(List<LabelledExample> examples) {
    List<Completion> mismatched = KtoLoss.mismatched(examples);
    double z = KtoLoss.referencePoint(logProbs(policy, mismatched), logProbs(reference, mismatched));
    List<Completion> completions = examples.stream().map(LabelledExample::completion).toList();
    float[] p = logProbs(policy, completions);
    float[] r = logProbs(reference, completions);
    float[] desirable = new float[examples.size()];
    for (int i = 0; i < desirable.length; i++) desirable[i] = examples.get(i).desirable() ? 1 : 0;
    float[] losses;
    try (NDManager m = policy.manager().newSubManager()) {
      losses = loss.perExample(m.create(p), m.create(r), m.create(desirable), z).toFloatArray();
    }
    List<LabelledScore> out = new ArrayList<>(examples.size());
    for (int i = 0; i < examples.size(); i++) {
      out.add(new LabelledScore(examples.get(i).id(), examples.get(i).desirable(), p[i], r[i], loss.reward(p[i], r[i]), losses[i], z));
    }
    return out;
  }

  /** Summed log-probs of the completions, in batches of a few. */
  private static float[] logProbs(CausalLm model, List<Completion> completions) {
    float[] out = new float[completions.size()];
    for (int start = 0; start < completions.size(); start += FORWARD_BATCH) {
      List<Completion> part = completions.subList(start, Math.min(completions.size(), start + FORWARD_BATCH));
      // the scope also frees what the model's blocks attach to the weights' manager
      try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager()) {
        float[] values = SequenceLogProbs.of(model, PreferenceBatch.ofCompletions(part, m), LogProbAggregation.SUM).toFloatArray();
        System.arraycopy(values, 0, out, start, values.length);
      }
    }
    return out;
  }
}
