package io.prefstream.trainer.service;

import ai.djl.ndarray.NDManager;
import io.prefstream.publisher.RolloutAgent;
import io.prefstream.trainer.dpo.DpoConfig;
import io.prefstream.trainer.dpo.PreferenceExample;
import io.prefstream.trainer.dpo.PreferenceLoss;
import io.prefstream.trainer.dpo.PreferenceScore;
import io.prefstream.trainer.dpo.PreferenceScorer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * The newest held-out pairs (never trained on) and how the policy ranks them against the
 * reference: reward accuracy and margin under TRL's {@code eval/...} names, the numbers the
 * rollout's promotion gate reads.
 */
final class HeldOutEvaluation {
  private static final int SIZE = 256;
  private final Deque<PreferenceExample> examples = new ArrayDeque<>();

  void add(PreferenceExample example) {
    examples.add(example);
    if (examples.size() > SIZE) examples.poll();
  }

  /** The held-out examples, oldest first. */
  List<PreferenceExample> examples() {
    return List.copyOf(examples);
  }

  /** The metrics on the held-out pairs; empty when there are none yet. */
  Map<String, Double> measure(TrainedModels models, DpoConfig dpo, NDManager manager) {
    if (examples.isEmpty()) return Map.of();
    try (PreferenceLoss loss = new PreferenceLoss(dpo, manager)) {
      var scores = new PreferenceScorer(models.policy(), models.reference(), loss).score(new ArrayList<>(examples));
      double correct = 0;
      double margin = 0;
      for (PreferenceScore s : scores) {
        int last = s.policyLogProbs().length - 1;
        if (s.reward(0) > s.reward(last)) correct++;
        margin += s.reward(0) - s.reward(last);
      }
      return Map.of(RolloutAgent.ACCURACY_METRIC, correct / scores.size(), "eval/rewards/margins", margin / scores.size(), "eval/examples", (double) scores.size());
    }
  }
}
