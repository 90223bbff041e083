package io.prefstream.trainer.dpo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The loss's own rules; every equation's values are checked against TRL's in LossReferenceVectorsTest. */
class PreferenceLossTest {
  private static NDManager manager;

  // summed log-probs of 3 pairs: (chosen, rejected) under policy and reference, and the responses' lengths
  private static final float[] POLICY = {-16.7f, -30.2f, -9.98f, -10.18f, -26.6f, -10.9f};
  private static final float[] REFERENCE = {-21.7f, -28.2f, -6.77f, -8.44f, -24.8f, -10.3f};
  private static final float[] TOKENS = {6, 9, 4, 3, 12, 5};

  @BeforeAll
  static void start() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void stop() {
    manager.close();
  }

  private static double[] losses(DpoConfig config, float[] policy, float[] reference, float[] tokens, int k) {
    try (NDManager m = manager.newSubManager(); PreferenceLoss loss = new PreferenceLoss(config, m)) {
      int b = policy.length / k;
      Shape shape = new Shape(b, k);
      ResponseLogProbs logProbs = new ResponseLogProbs(m.create(policy, shape), reference == null ? null : m.create(reference, shape), m.create(tokens, shape), null);
      float[] out = loss.perExample(logProbs, meanChosen(tokens, k)).toFloatArray();
      double[] d = new double[out.length];
      for (int i = 0; i < out.length; i++) d[i] = out[i];
      return d;
    }
  }

  private static double meanChosen(float[] tokens, int k) {
    double sum = 0;
    for (int i = 0; i < tokens.length; i += k) sum += tokens[i];
    return sum / (tokens.length / k);
  }

  private static double negLogSigmoid(double x) {
    return Math.log1p(Math.exp(-x));
  }

  private static DpoConfig valid(LossType type) {
    DpoConfig config = DpoConfig.of(type);
    return switch (type) {
      case CDPO, ROBUST -> config.withLabelSmoothing(0.2);
      default -> config;
    };
  }

  @Test
  void rpo_underMeanLogProbs_dividesByTheLengthOnce() {
    DpoConfig config = DpoConfig.defaults().withAggregation(LogProbAggregation.MEAN).withRpoAlpha(1);
    double[] got = losses(config, POLICY, REFERENCE, TOKENS, 2);
    for (int b = 0; b < 3; b++) {
      double nw = TOKENS[2 * b];
      double nl = TOKENS[2 * b + 1];
      double delta = (POLICY[2 * b] - REFERENCE[2 * b]) / nw - (POLICY[2 * b + 1] - REFERENCE[2 * b + 1]) / nl;
      double expected = negLogSigmoid(0.1 * delta) + -POLICY[2 * b] / nw;
      assertThat(got[b]).as("pair %d", b).isCloseTo(expected, within(1e-5));
    }
  }

  @Test
  void ipo_onSums_isLengthNormalizedAsTrl() {
    double[] got = losses(DpoConfig.of(LossType.IPO), POLICY, REFERENCE, TOKENS, 2);
    for (int b = 0; b < 3; b++) {
      double delta = (POLICY[2 * b] - REFERENCE[2 * b]) / TOKENS[2 * b] - (POLICY[2 * b + 1] - REFERENCE[2 * b + 1]) / TOKENS[2 * b + 1];
      assertThat(got[b]).as("pair %d", b).isCloseTo(Math.pow(delta - 1 / (2 * 0.1), 2), within(1e-4));
    }
  }

  @Test
  void ipo_onMeans_doesNotDivideAgain() {
    double[] onMeans = losses(DpoConfig.of(LossType.IPO).withAggregation(LogProbAggregation.MEAN), POLICY, REFERENCE, TOKENS, 2);
    double[] onSums = losses(DpoConfig.of(LossType.IPO), POLICY, REFERENCE, TOKENS, 2);
    assertThat(onMeans).containsExactly(onSums, within(1e-4));
  }

  @ParameterizedTest
  @EnumSource(value = LossType.class, names = {"SIGMOID", "IPO", "HINGE", "CDPO", "BCO_PAIR", "SIMPO"})
  void ranking_ofThree_withAPairwiseLoss_isTheMeanOverItsThreePairs(LossType type) {
    DpoConfig config = valid(type);
    float[] policy = {-3f, -5f, -4f};
    float[] reference = {-4f, -4f, -4.5f};
    float[] tokens = {2, 3, 4};
    double[] ranking = losses(config, policy, reference, tokens, 3);
    int[][] pairs = {{0, 1}, {0, 2}, {1, 2}};
    double mean = 0;
    for (int[] p : pairs) {
      mean += losses(config, new float[] {policy[p[0]], policy[p[1]]}, new float[] {reference[p[0]], reference[p[1]]},
          new float[] {tokens[p[0]], tokens[p[1]]}, 2)[0] / 3;
    }
    assertThat(ranking[0]).isCloseTo(mean, within(1e-5));
  }

  @Test
  void plackettLuce_ofTwo_isExactlySigmoid() {
    double[] pl = losses(DpoConfig.of(LossType.PLACKETT_LUCE).withBeta(0.5), POLICY, REFERENCE, TOKENS, 2);
    double[] sigmoid = losses(DpoConfig.defaults().withBeta(0.5), POLICY, REFERENCE, TOKENS, 2);
    assertThat(pl).containsExactly(sigmoid, within(1e-6));
  }

  @Test
  void plackettLuce_ofThree_matchesTheRankingLikelihood() {
    float[] policy = {-3f, -5f, -4f};
    float[] reference = {-4f, -4f, -4f};
    double r0 = 1, r1 = -1, r2 = 0;
    double expected = -(r0 - Math.log(Math.exp(r0) + Math.exp(r1) + Math.exp(r2))) - (r1 - Math.log(Math.exp(r1) + Math.exp(r2)));
    double[] got = losses(DpoConfig.of(LossType.PLACKETT_LUCE).withBeta(1), policy, reference, new float[] {1, 1, 1}, 3);
    assertThat(got[0]).isCloseTo(expected, within(1e-5));
  }

  @Test
  void referenceFreeLosses_needNoReference() {
    for (LossType type : List.of(LossType.SIMPO, LossType.ORPO, LossType.SFT)) {
      assertThat(DpoConfig.of(type).needsReference()).as(type.label()).isFalse();
      assertThat(java.util.Arrays.stream(losses(DpoConfig.of(type), POLICY, null, TOKENS, 2)).allMatch(Double::isFinite)).as(type.label()).isTrue();
    }
    assertThatThrownBy(() -> losses(DpoConfig.defaults(), POLICY, null, TOKENS, 2)).hasMessageContaining("needs reference");
  }

  @Test
  void combination_isTheWeightedSumOfItsTerms() {
    DpoConfig mpo = DpoConfig.defaults().withLosses(LossTerm.parse(List.of("sigmoid", "bco_pair", "sft"), List.of(0.8, 0.2, 1.0)));
    double[] got = losses(mpo, POLICY, REFERENCE, TOKENS, 2);
    double[] sigmoid = losses(DpoConfig.defaults(), POLICY, REFERENCE, TOKENS, 2);
    double[] bco = losses(DpoConfig.of(LossType.BCO_PAIR), POLICY, REFERENCE, TOKENS, 2);
    double[] sft = losses(DpoConfig.of(LossType.SFT), POLICY, REFERENCE, TOKENS, 2);
    for (int b = 0; b < 3; b++) assertThat(got[b]).isCloseTo(0.8 * sigmoid[b] + 0.2 * bco[b] + sft[b], within(1e-5));
  }

  @Test
  void sigmoidWithLabelSmoothing_isCdpo_asInTrl() {
    double[] sigmoid = losses(DpoConfig.defaults().withLabelSmoothing(0.2), POLICY, REFERENCE, TOKENS, 2);
    double[] cdpo = losses(DpoConfig.of(LossType.CDPO).withLabelSmoothing(0.2), POLICY, REFERENCE, TOKENS, 2);
    double[] clean = losses(DpoConfig.defaults(), POLICY, REFERENCE, TOKENS, 2);
    for (int b = 0; b < 3; b++) {
      double x = 0.1 * ((POLICY[2 * b] - REFERENCE[2 * b]) - (POLICY[2 * b + 1] - REFERENCE[2 * b + 1]));
      assertThat(sigmoid[b]).isEqualTo(cdpo[b]).isCloseTo(0.8 * negLogSigmoid(x) + 0.2 * negLogSigmoid(-x), within(1e-5));
      assertThat(clean[b]).isCloseTo(negLogSigmoid(x), within(1e-5));
    }
  }

  @Test
  void config_refusesWhatTrlRefuses() {
    assertThatThrownBy(() -> DpoConfig.of(LossType.EXO_PAIR).withLabelSmoothing(0)).hasMessageContaining("exo_pair needs label smoothing");
    assertThatThrownBy(() -> DpoConfig.of(LossType.AOT).withWeighting(true)).hasMessageContaining("WPO");
    assertThatThrownBy(() -> DpoConfig.of(LossType.IPO).withLabelSmoothing(0.1)).hasMessageContaining("label smoothing applies");
    assertThatThrownBy(() -> LossTerm.parse(List.of("sigmoid", "sft"), List.of(1.0))).hasMessageContaining("one weight per loss");
    assertThatThrownBy(() -> LossTerm.parse(List.of("dpo"), List.of())).hasMessageContaining("unknown loss 'dpo'");
  }

  @ParameterizedTest
  @EnumSource(LossType.class)
  void gradientWithRespectToLogProbs_matchesFiniteDifferences(LossType type) {
    DpoConfig config = valid(type);
    float[] analytic;
    try (NDManager m = manager.newSubManager(); PreferenceLoss loss = new PreferenceLoss(config, m)) {
      NDArray policy = m.create(POLICY, new Shape(3, 2));
      policy.setRequiresGradient(true);
      try (GradientCollector c = Engine.getInstance().newGradientCollector()) {
        ResponseLogProbs logProbs = new ResponseLogProbs(policy, m.create(REFERENCE, new Shape(3, 2)), m.create(TOKENS, new Shape(3, 2)), null);
        c.backward(loss.perExample(logProbs, meanChosen(TOKENS, 2)).sum());
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
      double numeric = (sum(losses(config, up, REFERENCE, TOKENS, 2)) - sum(losses(config, down, REFERENCE, TOKENS, 2))) / (2 * h);
      assertThat((double) analytic[i]).as("d loss / d policy[%d]", i).isCloseTo(numeric, within(2e-3 * Math.max(1, Math.abs(numeric))));
    }
  }

  @Test
  void rewards_areBetaTimesLogRatios() {
    try (NDManager m = manager.newSubManager(); PreferenceLoss loss = new PreferenceLoss(DpoConfig.defaults(), m)) {
      ResponseLogProbs logProbs = new ResponseLogProbs(m.create(POLICY, new Shape(3, 2)), m.create(REFERENCE, new Shape(3, 2)), m.create(TOKENS, new Shape(3, 2)), null);
      float[] r = loss.rewards(logProbs).toFloatArray();
      for (int i = 0; i < r.length; i++) assertThat((double) r[i]).isCloseTo(0.1 * (POLICY[i] - REFERENCE[i]), within(1e-5));
    }
  }

  private static double sum(double[] values) {
    double s = 0;
    for (double v : values) s += v;
    return s;
  }
}
