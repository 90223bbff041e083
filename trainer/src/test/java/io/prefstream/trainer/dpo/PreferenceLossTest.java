package io.prefstream.trainer.dpo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PreferenceLossTest {
  private static NDManager manager;

  // log-probs of 3 pairs: (chosen, rejected) under policy and reference
  private static final float[] POLICY = {-16.7f, -30.2f, -9.98f, -10.18f, -26.6f, -10.9f};
  private static final float[] REFERENCE = {-21.7f, -28.2f, -6.77f, -8.44f, -24.8f, -10.3f};

  @BeforeAll
  static void start() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void stop() {
    manager.close();
  }

  private static double delta(int b) {
    return (POLICY[2 * b] - POLICY[2 * b + 1]) - (REFERENCE[2 * b] - REFERENCE[2 * b + 1]);
  }

  private static double[] losses(DpoConfig config, float[] policy, float[] reference, int k) {
    try (NDManager m = manager.newSubManager(); PreferenceLoss loss = new PreferenceLoss(config, m)) {
      int b = policy.length / k;
      float[] out = loss.perExample(m.create(policy, new Shape(b, k)), m.create(reference, new Shape(b, k))).toFloatArray();
      double[] d = new double[out.length];
      for (int i = 0; i < out.length; i++) d[i] = out[i];
      return d;
    }
  }

  private static double logSigmoid(double x) {
    return -Math.log1p(Math.exp(-x));
  }

  @ParameterizedTest
  @EnumSource(LossType.class)
  void perExample_matchesTheEquation(LossType type) {
    double beta = 0.1;
    double eps = type == LossType.CDPO ? 0.2 : 0;
    DoubleUnaryOperator equation = switch (type) {
      case SIGMOID, PLACKETT_LUCE -> d -> -logSigmoid(beta * d);
      case CDPO -> d -> -(1 - eps) * logSigmoid(beta * d) - eps * logSigmoid(-beta * d);
      case IPO -> d -> Math.pow(d - 1 / (2 * beta), 2);
      case HINGE -> d -> Math.max(0, 1 - beta * d);
    };
    double[] got = losses(new DpoConfig(beta, type, eps, 0, LogProbAggregation.SUM), POLICY, REFERENCE, 2);
    for (int b = 0; b < 3; b++) {
      assertThat(got[b]).as("example %d", b).isCloseTo(equation.applyAsDouble(delta(b)), within(1e-5 * Math.max(1, Math.abs(got[b]))));
    }
  }

  @Test
  void plackettLuce_ofTwo_isExactlySigmoid() {
    double[] pl = losses(new DpoConfig(0.5, LossType.PLACKETT_LUCE, 0, 0, LogProbAggregation.SUM), POLICY, REFERENCE, 2);
    double[] sigmoid = losses(new DpoConfig(0.5, LossType.SIGMOID, 0, 0, LogProbAggregation.SUM), POLICY, REFERENCE, 2);
    assertThat(pl).containsExactly(sigmoid, within(1e-6));
  }

  @Test
  void plackettLuce_ofThree_matchesTheRankingLikelihood() {
    float[] policy = {-3f, -5f, -4f};
    float[] reference = {-4f, -4f, -4f};
    double beta = 1.0;
    double r0 = beta * 1, r1 = beta * -1, r2 = 0;
    double expected = -(r0 - Math.log(Math.exp(r0) + Math.exp(r1) + Math.exp(r2))) - (r1 - Math.log(Math.exp(r1) + Math.exp(r2)));
    double[] got = losses(new DpoConfig(beta, LossType.SIGMOID, 0, 0, LogProbAggregation.SUM), policy, reference, 3);
    assertThat(got[0]).isCloseTo(expected, within(1e-5));
  }

  @ParameterizedTest
  @EnumSource(LossType.class)
  void gradientWithRespectToLogProbs_matchesFiniteDifferences(LossType type) {
    DpoConfig config = new DpoConfig(0.1, type, type == LossType.CDPO ? 0.2 : 0, 0, LogProbAggregation.SUM);
    float[] analytic;
    try (NDManager m = manager.newSubManager(); PreferenceLoss loss = new PreferenceLoss(config, m)) {
      NDArray policy = m.create(POLICY, new Shape(3, 2));
      policy.setRequiresGradient(true);
      try (GradientCollector c = Engine.getInstance().newGradientCollector()) {
        c.backward(loss.perExample(policy, m.create(REFERENCE, new Shape(3, 2))).sum());
      }
      try (NDArray g = policy.getGradient()) {
        analytic = g.toFloatArray();
      }
    }
    double h = 1e-2;
    for (int i = 0; i < POLICY.length; i++) {
      float[] up = POLICY.clone();
      float[] down = POLICY.clone();
      up[i] += h;
      down[i] -= h;
      double numeric = (sum(losses(config, up, REFERENCE, 2)) - sum(losses(config, down, REFERENCE, 2))) / (2 * h);
      assertThat((double) analytic[i]).as("d loss / d policy[%d]", i).isCloseTo(numeric, within(2e-3 * Math.max(1, Math.abs(numeric))));
    }
  }

  @Test
  void rewards_areBetaTimesLogRatios() {
    try (NDManager m = manager.newSubManager(); PreferenceLoss loss = new PreferenceLoss(DpoConfig.defaults(), m)) {
      float[] r = loss.rewards(m.create(POLICY, new Shape(3, 2)), m.create(REFERENCE, new Shape(3, 2))).toFloatArray();
      for (int i = 0; i < r.length; i++) assertThat((double) r[i]).isCloseTo(0.1 * (POLICY[i] - REFERENCE[i]), within(1e-5));
    }
  }

  private static double sum(double[] values) {
    double s = 0;
    for (double v : values) s += v;
    return s;
  }
}
