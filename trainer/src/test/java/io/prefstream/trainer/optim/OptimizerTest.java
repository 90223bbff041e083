package io.prefstream.trainer.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OptimizerTest {

  @Test
  void warmup_risesLinearlyThenHolds() {
    LinearWarmup w = new LinearWarmup(1e-3, 4);
    assertThat(w.at(1)).isCloseTo(2.5e-4, within(1e-12));
    assertThat(w.at(2)).isCloseTo(5e-4, within(1e-12));
    assertThat(w.at(4)).isEqualTo(1e-3);
    assertThat(w.at(100)).isEqualTo(1e-3);
    assertThat(new LinearWarmup(1e-3, 0).at(1)).isEqualTo(1e-3);
  }

  @Test
  void clipping_scalesAllGradientsByOneFactor() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = m.create(new float[] {3, 0});
      NDArray b = m.create(new float[] {0, 4});
      double norm = new GlobalNormClipping(1.0).clip(List.of(a, b), m);
      assertThat(norm).isCloseTo(5.0, within(1e-6));
      assertThat(a.toFloatArray()).containsExactly(new float[] {0.6f, 0}, within(1e-5f));
      assertThat(b.toFloatArray()).containsExactly(new float[] {0, 0.8f}, within(1e-5f));
      assertThat(GlobalNormClipping.norm(List.of(a, b))).isCloseTo(1.0, within(1e-5));
    }
  }

  @Test
  void clipping_leavesSmallGradientsAlone() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = m.create(new float[] {0.3f, 0.4f});
      new GlobalNormClipping(1.0).clip(List.of(a), m);
      assertThat(a.toFloatArray()).containsExactly(0.3f, 0.4f);
    }
  }

  @Test
  void adamW_matchesTheUpdateRuleByHand() {
    try (NDManager m = NDManager.newBaseManager(); AdamW adam = new AdamW(0.9, 0.999, 1e-8, 0.1, m)) {
      NDArray theta = m.create(new float[] {1.0f}, new ai.djl.ndarray.types.Shape(1, 1)); // a matrix: decayed
      adam.track(Map.of("w", theta));
      double expected = 1.0;
      double mm = 0;
      double vv = 0;
      double[] grads = {0.5, -0.2, 0.1};
      for (int t = 1; t <= grads.length; t++) {
        try (NDManager step = m.newSubManager()) {
          adam.update(Map.of("w", theta), Map.of("w", step.create(new float[] {(float) grads[t - 1]}, new ai.djl.ndarray.types.Shape(1, 1))), 0.01, step);
        }
        expected -= 0.01 * 0.1 * expected;
        mm = 0.9 * mm + 0.1 * grads[t - 1];
        vv = 0.999 * vv + 0.001 * grads[t - 1] * grads[t - 1];
        expected -= 0.01 * (mm / (1 - Math.pow(0.9, t))) / (Math.sqrt(vv / (1 - Math.pow(0.999, t))) + 1e-8);
      }
      assertThat((double) theta.getFloat()).isCloseTo(expected, within(1e-6));
      assertThat(adam.step()).isEqualTo(3);
      assertThat(adam.state()).containsKeys("m.w", "v.w");
    }
  }

  @Test
  void adamW_updatesEverySliceOfAParameterLargerThanOneSlice() {
    int columns = (1 << 23) + 2; // two rows: 2^24 + 4 elements, several of the update's 2^22-element slices
    try (NDManager m = NDManager.newBaseManager(); AdamW adam = new AdamW(0.9, 0.999, 1e-8, 0.1, m)) {
      NDArray theta = m.ones(new ai.djl.ndarray.types.Shape(2, columns));
      adam.track(Map.of("w", theta));
      try (NDManager step = m.newSubManager()) {
        NDArray gradient = step.full(new ai.djl.ndarray.types.Shape(2, columns), 0.5f);
        gradient.set(new ai.djl.ndarray.index.NDIndex("1, -1"), -0.2f);
        adam.update(Map.of("w", theta), Map.of("w", gradient), 0.01, step);
      }
      // first step: m̂ = g, v̂ = g², so θ = (1 − lr·λ) − lr · g / (|g| + ε)
      double decayed = 1 - 0.01 * 0.1;
      float[] updated = theta.toFloatArray();
      assertThat((double) updated[0]).isCloseTo(decayed - 0.01 * 0.5 / (0.5 + 1e-8), within(1e-6));
      assertThat((double) updated[(1 << 24) + 1]).as("in the fifth slice").isCloseTo(decayed - 0.01 * 0.5 / (0.5 + 1e-8), within(1e-6));
      assertThat((double) updated[updated.length - 1]).isCloseTo(decayed + 0.01 * 0.2 / (0.2 + 1e-8), within(1e-6));
    }
  }

  @Test
  void weightDecay_shrinksMatricesButNotBiasesOrNormGains() {
    try (NDManager m = NDManager.newBaseManager(); AdamW adam = new AdamW(0.9, 0.999, 1e-8, 0.5, m)) {
      Map<String, NDArray> parameters = Map.of(
          "h.0.attn.c_attn.weight", m.ones(new ai.djl.ndarray.types.Shape(2, 2)),
          "h.0.attn.c_attn.bias", m.ones(new ai.djl.ndarray.types.Shape(2)),
          "model.norm.weight", m.ones(new ai.djl.ndarray.types.Shape(2)));
      adam.track(parameters);
      try (NDManager step = m.newSubManager()) {
        Map<String, NDArray> zeroGradients = new java.util.HashMap<>();
        parameters.forEach((name, p) -> zeroGradients.put(name, step.zeros(p.getShape())));
        adam.update(parameters, zeroGradients, 0.1, step); // zero gradients: only the decay moves a weight
      }
      assertThat(parameters.get("h.0.attn.c_attn.weight").toFloatArray()).containsOnly(1 - 0.1f * 0.5f);
      assertThat(parameters.get("h.0.attn.c_attn.bias").toFloatArray()).containsOnly(1f);
      assertThat(parameters.get("model.norm.weight").toFloatArray()).containsOnly(1f);
    }
  }
}
