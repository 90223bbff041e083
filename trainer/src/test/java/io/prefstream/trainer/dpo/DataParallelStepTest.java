package io.prefstream.trainer.dpo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.LoraConfig;
import io.prefstream.trainer.model.LoraModel;
import io.prefstream.trainer.optim.AdamW;
import io.prefstream.trainer.optim.Fanout;
import io.prefstream.trainer.optim.LinearWarmup;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;

/** A step on two workers makes the update one worker makes, the same bit for bit from run to run; when it runs two. */
class DataParallelStepTest {

  /** What two steps did: their metrics and the weights after them. */
  private record Trained(List<StepMetrics> metrics, Map<String, float[]> weights) {}

  /** Pairs, a micro-batch of rankings and one of labelled responses, two steps; unclipped, so a wrong gradient scale shows in the norm. */
  private static Trained trained(LongFunction<CausalLm> model, int workers) {
    List<PreferenceExample> pairs = TinyPolicies.pairs(5, 4);
    List<PreferenceExample> rankings = TinyPolicies.pairs(3, 5).stream()
        .map(p -> new PreferenceExample(p.id(), p.prompt(), List.of(p.responses().get(0), new int[] {7, 9}, p.responses().get(1)), 1.5))
        .toList();
    List<LabelledExample> labelled = TinyPolicies.pairs(3, 6).stream()
        .flatMap(p -> List.of(new LabelledExample(p.id() + "+", p.prompt(), p.responses().get(0), true, 1),
            new LabelledExample(p.id() + "-", p.prompt(), p.responses().get(1), false, 1)).stream())
        .toList();
    try (CausalLm policy = model.apply(3); CausalLm reference = model.apply(4);
        DpoStep step = new DpoStep(policy, reference, DpoConfig.defaults(), new LinearWarmup(1e-2, 0), 1e9, 0.0, PreferenceBatch.Layout.PACKED, workers)) {
      StepMetrics first = step.step(List.of(pairs), List.of()); // one micro-batch: split between the workers
      StepMetrics second = step.step(List.of(pairs, rankings), List.of(labelled));
      return new Trained(List.of(first, second), weights(policy));
    }
  }

  private static Map<String, float[]> weights(CausalLm policy) {
    Map<String, float[]> weights = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> e : policy.parameters().entrySet()) weights.put(e.getKey(), e.getValue().toFloatArray());
    return weights;
  }

  private static void assertSameMetrics(StepMetrics actual, StepMetrics expected) {
    assertThat(List.of(actual.examples(), actual.tokens(), actual.pairs(), actual.rankings(), actual.labelled()))
        .isEqualTo(List.of(expected.examples(), expected.tokens(), expected.pairs(), expected.rankings(), expected.labelled()));
    double[] a = {actual.loss(), actual.rewardsChosen(), actual.rewardsRejected(), actual.rewardAccuracy(), actual.logpsChosen(), actual.logpsRejected(), actual.gradNorm()};
    double[] e = {expected.loss(), expected.rewardsChosen(), expected.rewardsRejected(), expected.rewardAccuracy(), expected.logpsChosen(), expected.logpsRejected(), expected.gradNorm()};
    for (int i = 0; i < a.length; i++) assertThat(a[i]).as("metric %d of %s", i, expected).isCloseTo(e[i], within(1e-5 * Math.max(1, Math.abs(e[i]))));
    if (Double.isNaN(expected.kl())) assertThat(actual.kl()).isNaN();
    else assertThat(actual.kl()).isCloseTo(expected.kl(), within(1e-5));
  }

  private static void assertSameUpdate(LongFunction<CausalLm> model) {
    Trained one = trained(model, 1);
    Trained two = trained(model, 2);
    Trained again = trained(model, 2);
    for (int s = 0; s < 2; s++) assertSameMetrics(two.metrics().get(s), one.metrics().get(s));
    assertThat(two.metrics()).as("a second run").isEqualTo(again.metrics());
    assertThat(one.metrics().get(1).kl()).as("KTO's reference point was computed").isFinite();
    assertThat(two.weights().keySet()).isEqualTo(one.weights().keySet());
    one.weights().forEach((name, expected) -> {
      float[] actual = two.weights().get(name);
      for (int i = 0; i < expected.length; i++) assertThat(actual[i]).as(name + "[" + i + "]").isCloseTo(expected[i], within(1e-5f));
      assertThat(again.weights().get(name)).as(name + ", a second run").isEqualTo(actual);
    });
  }

  @Test
  void twoWorkers_updateAsOne_tiedHead() {
    try (NDManager manager = NDManager.newBaseManager()) {
      assertSameUpdate(seed -> TinyPolicies.gpt2(seed, manager));
    }
  }

  @Test
  void twoWorkers_updateAsOne_untiedHeadAndGroupedQueries() {
    try (NDManager manager = NDManager.newBaseManager()) {
      assertSameUpdate(seed -> TinyPolicies.llama(seed, manager));
    }
  }

  @Test
  void anUpdateSharedOutAmongTheWorkers_isTheSerialUpdate_bitForBit() {
    try (NDManager manager = NDManager.newBaseManager(); DataParallel workers = new DataParallel(2)) {
      List<Map<String, float[]>> results = new ArrayList<>();
      for (Fanout fanout : List.of(Fanout.SERIAL, workers)) {
        Engine.getInstance().setRandomSeed(7);
        Map<String, NDArray> parameters = new LinkedHashMap<>();
        for (long[] shape : List.of(new long[] {64, 32}, new long[] {32}, new long[] {300, 16}, new long[] {16}, new long[] {8, 8})) {
          parameters.put("p" + parameters.size(), manager.randomNormal(new Shape(shape)));
        }
        try (AdamW adam = AdamW.withDefaults(0.1, manager)) {
          adam.track(parameters);
          for (int t = 0; t < 2; t++) {
            try (NDManager step = manager.newSubManager()) {
              Map<String, NDArray> gradients = new LinkedHashMap<>();
              parameters.forEach((name, p) -> gradients.put(name, step.randomNormal(p.getShape())));
              adam.update(parameters, gradients, 1e-2, step, fanout);
            }
          }
        }
        Map<String, float[]> weights = new LinkedHashMap<>();
        parameters.forEach((name, p) -> weights.put(name, p.toFloatArray()));
        results.add(weights);
      }
      assertThat(results.get(1).keySet()).isEqualTo(results.get(0).keySet());
      results.get(0).forEach((name, serial) -> assertThat(results.get(1).get(name)).as(name).isEqualTo(serial));
    }
  }

  @Test
  void aWorkersFailure_isTheStepsException_andTheNextStepStartsAfresh() {
    int[] longPrompt = new int[30];
    Arrays.fill(longPrompt, 3);
    // the heavier micro-batch runs on the calling thread, the one too long for GPT-2 on the other worker
    List<PreferenceExample> tooLong = List.of(PreferenceExample.pair("too-long", longPrompt, new int[] {7, 7, 7}, new int[] {9, 9, 9}));
    List<PreferenceExample> fine = TinyPolicies.pairs(8, 1);
    try (NDManager manager = NDManager.newBaseManager(); CausalLm policy = TinyPolicies.gpt2(5, manager); CausalLm reference = TinyPolicies.gpt2(5, manager);
        DpoStep step = new DpoStep(policy, reference, DpoConfig.defaults(), new LinearWarmup(1e-2, 0), 1e9, 0.0, PreferenceBatch.Layout.PACKED, 2);
        CausalLm freshPolicy = TinyPolicies.gpt2(5, manager); CausalLm freshReference = TinyPolicies.gpt2(5, manager);
        DpoStep fresh = new DpoStep(freshPolicy, freshReference, DpoConfig.defaults(), new LinearWarmup(1e-2, 0), 1e9, 0.0, PreferenceBatch.Layout.PACKED, 2)) {
      assertThat(fine.stream().mapToInt(PreferenceExample::rowTokens).sum()).isGreaterThan(tooLong.get(0).rowTokens());
      assertThatThrownBy(() -> step.step(List.of(fine, tooLong))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("n_positions");
      // the failed step's partial gradients are gone: the next step is the one a fresh model makes
      StepMetrics next = step.step(List.of(fine));
      assertThat(next.loss()).isCloseTo(Math.log(2), within(1e-4));
      assertThat(next.gradNorm()).isCloseTo(fresh.step(List.of(fine)).gradNorm(), within(1e-6));
    }
  }

  @Test
  void onTheCpu_workersShareTheCores() {
    try (NDManager manager = NDManager.newBaseManager(); CausalLm policy = TinyPolicies.gpt2(1, manager)) {
      assertThat(StepWorkers.of(2, Device.cpu(), policy, DpoConfig.defaults(), 2)).isEqualTo(new StepWorkers(2, Optional.of(1)));
      assertThat(StepWorkers.of(2, Device.cpu(), policy, DpoConfig.defaults(), 8)).isEqualTo(new StepWorkers(2, Optional.of(4)));
      assertThat(StepWorkers.of(4, Device.cpu(), policy, DpoConfig.defaults(), 2)).as("no more workers than cores").isEqualTo(new StepWorkers(2, Optional.of(1)));
      assertThat(StepWorkers.of(1, Device.cpu(), policy, DpoConfig.defaults(), 2)).as("PyTorch's threads as they are").isEqualTo(new StepWorkers(1, Optional.empty()));
    }
  }

  @Test
  void oneWorker_onAGpu_withLora_andForALossThatSortsTheBatch() {
    try (NDManager manager = NDManager.newBaseManager()) {
      try (CausalLm policy = TinyPolicies.gpt2(1, manager)) {
        assertThat(StepWorkers.of(2, Device.gpu(), policy, DpoConfig.defaults(), 2).workers()).isEqualTo(1);
      }
      try (LoraModel lora = LoraModel.attach(TinyPolicies.gpt2(1, manager), new LoraConfig(2, 4, 0, List.of(LoraConfig.ATTENTION)), 0)) {
        assertThat(StepWorkers.of(2, Device.cpu(), lora, DpoConfig.defaults(), 2).workers()).isEqualTo(1);
      }
      try (CausalLm policy = TinyPolicies.gpt2(1, manager)) {
        DpoConfig aot = DpoConfig.defaults().withLosses(List.of(new LossTerm(LossType.AOT, 1)));
        assertThat(StepWorkers.of(2, Device.cpu(), policy, aot, 2).workers()).isEqualTo(1);
      }
    }
  }
}
