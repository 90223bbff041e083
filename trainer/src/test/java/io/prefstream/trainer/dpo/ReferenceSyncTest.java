package io.prefstream.trainer.dpo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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

/** TR-DPO's soft update of the reference, θ_ref ← α·θ + (1 − α)·θ_ref every τ steps, during real DPO steps. */
class ReferenceSyncTest {
  private static final double ALPHA = 0.6;
  private static final int SYNC_STEPS = 3;
  private static NDManager manager;

  @BeforeAll
  static void start() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void stop() {
    manager.close();
  }

  @Test
  void fullModel_referenceIsUntouchedBetweenSyncs_andMixedAtEachSync() {
    try (CausalLm policy = TinyPolicies.gpt2(5, manager); CausalLm reference = TinyPolicies.gpt2(5, manager)) {
      trainAndCheckMixes(policy, reference);
    }
  }

  /** With LoRA the reference is a second adapter on the shared base; its A and B are what is mixed. */
  @Test
  void lora_referenceAdapterStartsEqualToThePolicys_andIsMixedFactorByFactor() {
    LoraConfig lora = new LoraConfig(4, 8, 0, List.of(LoraConfig.ATTENTION, LoraConfig.MLP));
    try (LoraModel policy = LoraModel.attach(TinyPolicies.gpt2(5, manager), lora, 1);
        LoraModel replica = LoraModel.attach(TinyPolicies.gpt2(5, manager), lora, 1)) {
      CausalLm reference = policy.addReferenceAdapter();
      assertThat(reference.parameters().keySet()).containsExactlyElementsOf(policy.parameters().keySet());
      assertThat(snapshot(reference)).usingRecursiveComparison().isEqualTo(snapshot(policy));

      trainAndCheckMixes(policy, reference);

      // the reference computes base + its own adapter: a replica whose adapter holds the reference's A and B agrees
      replica.parameters().forEach((name, p) -> p.set(reference.parameters().get(name).toByteBuffer()));
      List<PreferenceExample> examples = TinyPolicies.pairs(4, 9);
      try (NDManager m = manager.newSubManager()) {
        PreferenceBatch batch = PreferenceBatch.of(examples, m);
        float[] expected = SequenceLogProbs.of(replica, batch, LogProbAggregation.SUM).toFloatArray();
        float[] actual = SequenceLogProbs.of(reference, batch, LogProbAggregation.SUM).toFloatArray();
        float[] trained = SequenceLogProbs.of(policy, batch, LogProbAggregation.SUM).toFloatArray();
        for (int i = 0; i < expected.length; i++) assertThat(actual[i]).isCloseTo(expected[i], within(1e-5f));
        assertThat(actual).as("the reference lags the policy").isNotEqualTo(trained);
      }
    }
  }

  @Test
  void aReferenceOfAnotherShape_isRefused() {
    try (CausalLm policy = TinyPolicies.gpt2(5, manager); CausalLm other = TinyPolicies.llama(5, manager)) {
      assertThatThrownBy(() -> ReferenceSync.checkMatches(policy, other)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reference");
    }
  }

  @Test
  void settings_followTrlsDefaultsAndRanges() {
    assertThat(ReferenceSync.trlDefaults()).isEqualTo(new ReferenceSync(0.6, 512));
    assertThatThrownBy(() -> new ReferenceSync(1.5, 1)).hasMessageContaining("alpha");
    assertThatThrownBy(() -> new ReferenceSync(0.5, 0)).hasMessageContaining("sync steps");
  }

  /** 2τ DPO steps with the sync after each: bit-identical before step τ, then α·p + (1 − α)·r at each sync (float64 expectation). */
  private static void trainAndCheckMixes(CausalLm policy, CausalLm reference) {
    ReferenceSync sync = new ReferenceSync(ALPHA, SYNC_STEPS);
    ReferenceSync.checkMatches(policy, reference);
    List<PreferenceExample> batch = TinyPolicies.pairs(8, 1);
    Map<String, double[]> expected = widen(snapshot(reference));
    try (DpoStep step = new DpoStep(policy, reference, DpoConfig.defaults(), new LinearWarmup(1e-2, 0), 1.0, 0.0)) {
      for (int s = 1; s <= 2 * SYNC_STEPS; s++) {
        Map<String, float[]> referenceBefore = snapshot(reference);
        step.step(List.of(batch));
        Map<String, float[]> policyNow = snapshot(policy);
        boolean mixed = sync.mixIfDue(s, policy, reference);
        assertThat(mixed).as("step %d", s).isEqualTo(s % SYNC_STEPS == 0);
        assertThat(snapshot(policy)).as("a sync never writes the policy").usingRecursiveComparison().isEqualTo(policyNow);
        if (!mixed) {
          assertThat(snapshot(reference)).as("nothing moves at step %d", s).usingRecursiveComparison().isEqualTo(referenceBefore);
          continue;
        }
        expected.replaceAll((name, r) -> {
          float[] p = policyNow.get(name);
          double[] next = new double[r.length];
          for (int i = 0; i < r.length; i++) next[i] = ALPHA * p[i] + (1 - ALPHA) * r[i];
          return next;
        });
        Map<String, float[]> actual = snapshot(reference);
        for (Map.Entry<String, double[]> e : expected.entrySet()) {
          float[] got = actual.get(e.getKey());
          for (int i = 0; i < got.length; i++) assertThat((double) got[i]).as("%s[%d] at step %d", e.getKey(), i, s).isCloseTo(e.getValue()[i], within(1e-6));
        }
        assertThat(actual).as("the policy has moved away from the reference by step %d", s).usingRecursiveComparison().isNotEqualTo(referenceBefore);
      }
    }
  }

  private static Map<String, double[]> widen(Map<String, float[]> values) {
    Map<String, double[]> out = new LinkedHashMap<>();
    values.forEach((name, v) -> {
      double[] d = new double[v.length];
      for (int i = 0; i < v.length; i++) d[i] = v[i];
      out.put(name, d);
    });
    return out;
  }

  private static Map<String, float[]> snapshot(CausalLm model) {
    Map<String, float[]> copy = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) copy.put(e.getKey(), e.getValue().toFloatArray());
    return copy;
  }
}
