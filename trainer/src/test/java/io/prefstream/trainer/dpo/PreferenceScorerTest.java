package io.prefstream.trainer.dpo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import io.prefstream.trainer.model.CausalLm;
import java.util.List;
import java.util.function.ToDoubleFunction;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The scorer's examples are one batch: aot sorts over all of them, not over each forward pass's few. */
class PreferenceScorerTest {
  private static final double BETA = 0.1;
  private static NDManager manager;

  @BeforeAll
  static void start() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void stop() {
    manager.close();
  }

  @ParameterizedTest
  @EnumSource(value = LossType.class, names = {"AOT", "AOT_UNPAIRED"})
  void batchLevelLosses_sortOverTheWholeFile(LossType type) {
    List<PreferenceExample> examples = TinyPolicies.pairs(13, 4); // more than one forward pass's worth
    try (CausalLm policy = TinyPolicies.gpt2(5, manager); CausalLm reference = TinyPolicies.gpt2(6, manager);
        PreferenceLoss loss = new PreferenceLoss(DpoConfig.of(type), manager)) {
      List<PreferenceScore> scores = new PreferenceScorer(policy, reference, loss).score(examples);

      double[] whole = expectedLosses(type, scores);
      double[] chunked = new double[scores.size()];
      for (int start = 0; start < scores.size(); start += 8) {
        double[] part = expectedLosses(type, scores.subList(start, Math.min(scores.size(), start + 8)));
        System.arraycopy(part, 0, chunked, start, part.length);
      }
      assertThat(chunked).as("sorting per chunk would give other losses, so this test tells them apart").isNotEqualTo(whole);
      for (int i = 0; i < scores.size(); i++) assertThat(scores.get(i).loss()).as(scores.get(i).id()).isCloseTo(whole[i], within(1e-4));
    }
  }

  /** TRL's aot / aot_unpaired from the reported log-probs, in float64: −log σ(β·δ) with δ from sorted log-ratios. */
  private static double[] expectedLosses(LossType type, List<PreferenceScore> scores) {
    ToDoubleFunction<PreferenceScore> first = type == LossType.AOT
        ? s -> s.policyLogProbs()[0] - s.policyLogProbs()[1]     // policy's chosen − rejected
        : s -> s.policyLogProbs()[0] - s.referenceLogProbs()[0]; // chosen's policy − reference
    ToDoubleFunction<PreferenceScore> second = type == LossType.AOT
        ? s -> s.referenceLogProbs()[0] - s.referenceLogProbs()[1]
        : s -> s.policyLogProbs()[1] - s.referenceLogProbs()[1];
    double[] a = scores.stream().mapToDouble(first).sorted().toArray();
    double[] b = scores.stream().mapToDouble(second).sorted().toArray();
    return IntStream.range(0, a.length).mapToDouble(i -> Math.log1p(Math.exp(-BETA * (a[i] - b[i])))).toArray();
  }
}
