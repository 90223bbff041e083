package io.prefstream.trainer.dpo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.LoraConfig;
import io.prefstream.trainer.model.LoraModel;
import io.prefstream.trainer.optim.LinearWarmup;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DpoStepTest {
  private static NDManager manager;

  @BeforeAll
  static void start() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void stop() {
    manager.close();
  }

  private static DpoStep step(CausalLm policy, CausalLm reference, double lr) {
    return new DpoStep(policy, reference, DpoConfig.defaults(), new LinearWarmup(lr, 0), 1.0, 0.0);
  }

  @Test
  void training_raisesRewardAccuracyFromChanceTowardsOne() {
    List<PreferenceExample> batch = TinyPolicies.pairs(8, 1);
    try (CausalLm policy = TinyPolicies.gpt2(5, manager); CausalLm reference = TinyPolicies.gpt2(5, manager);
        DpoStep step = step(policy, reference, 1e-2)) {
      StepMetrics first = step.step(List.of(batch));
      StepMetrics last = first;
      for (int i = 0; i < 30; i++) last = step.step(List.of(batch));
      // policy == reference at the start: every reward is 0, no pair is ranked right yet
      assertThat(first.rewardAccuracy()).isEqualTo(0.0);
      assertThat(first.loss()).isCloseTo(Math.log(2), within(1e-4));
      assertThat(last.rewardAccuracy()).isEqualTo(1.0);
      assertThat(last.loss()).isLessThan(0.5 * Math.log(2));
      assertThat(last.rewardMargin()).isPositive();
    }
  }

  @Test
  void reference_isBitIdenticalAfterAHundredSteps() {
    List<PreferenceExample> batch = TinyPolicies.pairs(4, 2);
    try (CausalLm policy = TinyPolicies.gpt2(6, manager); CausalLm reference = TinyPolicies.gpt2(6, manager);
        DpoStep step = step(policy, reference, 1e-2)) {
      Map<String, float[]> before = snapshot(reference);
      Map<String, float[]> policyBefore = snapshot(policy);
      for (int i = 0; i < 100; i++) step.step(List.of(batch));
      Map<String, float[]> after = snapshot(reference);
      assertThat(after.keySet()).isEqualTo(before.keySet());
      before.forEach((name, values) -> assertThat(after.get(name)).as(name).isEqualTo(values));
      assertThat(snapshot(policy).get("wte.weight")).isNotEqualTo(policyBefore.get("wte.weight"));
    }
  }

  @Test
  void accumulatedMicroBatches_updateAsOneBigBatch() {
    List<PreferenceExample> batch = TinyPolicies.pairs(6, 3);
    Map<String, float[]> whole;
    Map<String, float[]> accumulated;
    StepMetrics big;
    StepMetrics micro;
    try (CausalLm policy = TinyPolicies.gpt2(7, manager); CausalLm reference = TinyPolicies.gpt2(8, manager);
        DpoStep step = step(policy, reference, 1e-3)) {
      big = step.step(List.of(batch));
      whole = snapshot(policy);
    }
    try (CausalLm policy = TinyPolicies.gpt2(7, manager); CausalLm reference = TinyPolicies.gpt2(8, manager);
        DpoStep step = step(policy, reference, 1e-3)) {
      micro = step.step(List.of(batch.subList(0, 1), batch.subList(1, 4), batch.subList(4, 6)));
      accumulated = snapshot(policy);
    }
    assertThat(micro.loss()).isCloseTo(big.loss(), within(1e-5));
    assertThat(micro.gradNorm()).isCloseTo(big.gradNorm(), within(1e-4 * big.gradNorm()));
    whole.forEach((name, values) -> {
      float[] other = accumulated.get(name);
      for (int i = 0; i < values.length; i++) assertThat(other[i]).as(name).isCloseTo(values[i], within(1e-5f));
    });
  }

  @Test
  void steps_leaveNoArraysBehindOnTheModels() {
    List<PreferenceExample> batch = TinyPolicies.pairs(4, 5);
    try (CausalLm policy = TinyPolicies.gpt2(10, manager); CausalLm reference = TinyPolicies.gpt2(10, manager);
        DpoStep step = step(policy, reference, 1e-2)) {
      step.step(List.of(batch));
      int policyArrays = policy.manager().getManagedArrays().size();
      int referenceArrays = reference.manager().getManagedArrays().size();
      for (int i = 0; i < 3; i++) step.step(List.of(batch.subList(0, 2), batch.subList(2, 4)));
      assertThat(policy.manager().getManagedArrays()).hasSize(policyArrays);
      assertThat(reference.manager().getManagedArrays()).hasSize(referenceArrays);
    }
  }

  @Test
  void nonFiniteLoss_skipsTheUpdate() {
    List<PreferenceExample> batch = TinyPolicies.pairs(2, 4);
    try (CausalLm policy = TinyPolicies.gpt2(9, manager); CausalLm reference = TinyPolicies.gpt2(9, manager);
        DpoStep step = step(policy, reference, 1e-2)) {
      policy.parameters().get("ln_f.weight").set(new ai.djl.ndarray.index.NDIndex("0"), Float.NaN);
      Map<String, float[]> before = snapshot(policy);
      StepMetrics metrics = step.step(List.of(batch));
      assertThat(metrics.skipped()).isTrue();
      assertThat(step.optimizer().step()).isZero();
      before.forEach((name, values) -> assertThat(snapshot(policy).get(name)).as(name).isEqualTo(values));
    }
  }

  @Test
  void lora_trainsTheAdapterOnly_againstTheBase_andMergesToTheSameScores() {
    List<PreferenceExample> batch = TinyPolicies.pairs(8, 1);
    LoraConfig lora = new LoraConfig(4, 8, 0.1, List.of(LoraConfig.ATTENTION, LoraConfig.MLP));
    try (LoraModel policy = LoraModel.attach(TinyPolicies.gpt2(5, manager), lora, 1);
        DpoStep step = step(policy, policy.reference(), 1e-2)) {
      Map<String, float[]> base = snapshot(policy.reference());
      StepMetrics first = step.step(List.of(batch));
      StepMetrics last = first;
      for (int i = 0; i < 30; i++) last = step.step(List.of(batch));
      // B = 0 at the start: policy == reference, even with dropout on the adapters' inputs
      assertThat(first.loss()).isCloseTo(Math.log(2), within(1e-6));
      assertThat(last.rewardAccuracy()).isEqualTo(1.0);
      base.forEach((name, values) -> assertThat(snapshot(policy.reference()).get(name)).as(name).isEqualTo(values));
      assertThat(step.optimizer().state().keySet()).allMatch(name -> name.contains(".lora_A.") || name.contains(".lora_B."));

      try (NDManager m = manager.newSubManager()) {
        PreferenceBatch examples = PreferenceBatch.of(batch, m);
        float[] adapted = SequenceLogProbs.of(policy, examples, LogProbAggregation.SUM).toFloatArray();
        float[] merged = SequenceLogProbs.of(policy.mergeIntoBase(), examples, LogProbAggregation.SUM).toFloatArray();
        for (int i = 0; i < adapted.length; i++) assertThat(merged[i]).isCloseTo(adapted[i], within(1e-4f));
      }
    }
  }

  private static List<LabelledExample> thumbs(List<PreferenceExample> pairs) {
    List<LabelledExample> out = new java.util.ArrayList<>();
    for (PreferenceExample e : pairs) {
      out.add(new LabelledExample(e.id() + "+", e.prompt(), e.responses().get(0), true, 1));
      out.add(new LabelledExample(e.id() + "-", e.prompt(), e.responses().get(1), false, 1));
    }
    return out;
  }

  @Test
  void kto_learnsFromSingleThumbs_desirableRewardsRiseAboveUndesirable() {
    List<LabelledExample> labelled = thumbs(TinyPolicies.pairs(4, 1));
    try (CausalLm policy = TinyPolicies.gpt2(5, manager); CausalLm reference = TinyPolicies.gpt2(5, manager);
        DpoStep step = step(policy, reference, 1e-2)) {
      StepMetrics first = step.step(List.of(), List.of(labelled));
      StepMetrics last = first;
      for (int i = 0; i < 30; i++) last = step.step(List.of(), List.of(labelled.subList(0, 3), labelled.subList(3, 8)));
      // policy == reference at the start: ρ = 0, z_ref = 0, each loss 1 − σ(0) = 0.5
      assertThat(first.loss()).isCloseTo(0.5, within(1e-5));
      assertThat(first.kl()).isEqualTo(0.0);
      assertThat(last.loss()).isLessThan(0.45);
      assertThat(last.rewardsChosen()).isGreaterThan(last.rewardsRejected());
      assertThat(last.labelled()).isEqualTo(8);
      assertThat(last.pairs()).isZero();
      assertThat(last.asMap()).containsKeys("kl", "rewards/chosen", "rewards/rejected", "logps/chosen", "logps/rejected");
      assertThat(Double.isNaN(last.rewardAccuracy())).as("no pairs: no accuracy").isTrue();
    }
  }

  @Test
  void kto_mismatchedPairsStayWithinTheModelsPositions() {
    // each example fits GPT-2's 32 positions, but the first prompt (24) with the second's response (28) would not
    int[] longPrompt = new int[24];
    int[] longResponse = new int[28];
    java.util.Arrays.fill(longPrompt, 3);
    java.util.Arrays.fill(longResponse, 7);
    List<LabelledExample> labelled = List.of(
        new LabelledExample("long-prompt", longPrompt, new int[] {9, 9}, false, 1),
        new LabelledExample("long-response", new int[] {1, 2}, longResponse, true, 1));
    for (Completion c : KtoLoss.mismatched(labelled)) assertThat(c.length()).isLessThanOrEqualTo(30);
    try (CausalLm policy = TinyPolicies.gpt2(5, manager); CausalLm reference = TinyPolicies.gpt2(5, manager);
        DpoStep step = step(policy, reference, 1e-2)) {
      assertThat(step.step(List.of(), List.of(labelled)).labelled()).isEqualTo(2);
    }
  }

  @Test
  void mixedStep_isTheWeightedMeanOfBothLosses_andCountsEachKind() {
    List<PreferenceExample> pairs = TinyPolicies.pairs(3, 2);
    List<LabelledExample> labelled = thumbs(TinyPolicies.pairs(2, 3));
    try (CausalLm policy = TinyPolicies.gpt2(11, manager); CausalLm reference = TinyPolicies.gpt2(11, manager);
        DpoStep step = step(policy, reference, 1e-2)) {
      StepMetrics m = step.step(List.of(pairs), List.of(labelled));
      // at the start every pair's loss is log 2 and every labelled one's 0.5: (3 log 2 + 4 · 0.5) / 7
      assertThat(m.loss()).isCloseTo((3 * Math.log(2) + 4 * 0.5) / 7, within(1e-5));
      assertThat(m.pairs()).isEqualTo(3);
      assertThat(m.labelled()).isEqualTo(4);
      assertThat(m.examples()).isEqualTo(7);
      assertThat(m.asMap()).containsEntry("examples/pairs", 3.0).containsEntry("examples/labelled", 4.0);
    }
  }

  @Test
  void referenceFreeSimpo_trains() {
    List<PreferenceExample> batch = TinyPolicies.pairs(8, 1);
    try (CausalLm policy = TinyPolicies.gpt2(5, manager); CausalLm reference = TinyPolicies.gpt2(6, manager);
        DpoStep step = new DpoStep(policy, reference, DpoConfig.of(LossType.SIMPO).withBeta(2), new LinearWarmup(1e-2, 0), 1.0, 0.0)) {
      StepMetrics first = step.step(List.of(batch));
      StepMetrics last = first;
      for (int i = 0; i < 30; i++) last = step.step(List.of(batch));
      assertThat(last.loss()).isLessThan(first.loss());
      assertThat(last.rewardAccuracy()).isEqualTo(1.0);
    }
  }

  private static Map<String, float[]> snapshot(CausalLm model) {
    Map<String, float[]> copy = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) copy.put(e.getKey(), e.getValue().toFloatArray());
    return copy;
  }
}
