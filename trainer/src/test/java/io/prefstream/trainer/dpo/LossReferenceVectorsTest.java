package io.prefstream.trainer.dpo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.prefstream.testkit.ReferenceVectors;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.ModelFolder;
import io.prefstream.trainer.optim.LinearWarmup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every loss of the family against the independent float64 values of
 * testkit/reference-vectors/losses.py (TRL's equations in PyTorch), on every architecture, to 1e-4:
 * on the five pairs of a folder and on rankings of K = 3 and 4 responses built from them
 * (Plackett-Luce, and pairwise losses over the implied pairs). The five rows of a folder are one
 * batch, as there.
 */
class LossReferenceVectorsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern RANKING_COLUMN = Pattern.compile("loss_k(\\d+)_(.+)");
  private static NDManager manager;
  private static final Map<String, CausalLm[]> MODELS = new HashMap<>();

  @BeforeAll
  static void start() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void stop() {
    MODELS.values().forEach(pair -> {
      pair[0].close();
      pair[1].close();
    });
    manager.close();
  }

  /** The reference-vector column of each loss setting. */
  static DpoConfig configOf(String column) {
    DpoConfig sigmoid = DpoConfig.defaults();
    return switch (column) {
      case "loss_sigmoid_beta0.1" -> sigmoid;
      case "loss_cdpo_ls0.2_beta0.1" -> DpoConfig.of(LossType.CDPO).withLabelSmoothing(0.2);
      case "loss_robust_ls0.2" -> DpoConfig.of(LossType.ROBUST).withLabelSmoothing(0.2);
      case "loss_ipo_beta0.1" -> DpoConfig.of(LossType.IPO);
      case "loss_hinge_beta0.1" -> DpoConfig.of(LossType.HINGE);
      case "loss_exo_pair_ls0.001" -> DpoConfig.of(LossType.EXO_PAIR).withLabelSmoothing(1e-3);
      case "loss_nca_pair" -> DpoConfig.of(LossType.NCA_PAIR);
      case "loss_bco_pair" -> DpoConfig.of(LossType.BCO_PAIR);
      case "loss_sppo_hard" -> DpoConfig.of(LossType.SPPO_HARD);
      case "loss_aot" -> DpoConfig.of(LossType.AOT);
      case "loss_aot_ls0.1" -> DpoConfig.of(LossType.AOT).withLabelSmoothing(0.1);
      case "loss_aot_unpaired" -> DpoConfig.of(LossType.AOT_UNPAIRED);
      case "loss_apo_zero" -> DpoConfig.of(LossType.APO_ZERO);
      case "loss_apo_down" -> DpoConfig.of(LossType.APO_DOWN);
      case "loss_discopop_tau0.05" -> DpoConfig.of(LossType.DISCOPOP).withDiscopopTau(0.05);
      case "loss_sft" -> DpoConfig.of(LossType.SFT);
      case "loss_sigmoid_norm" -> DpoConfig.of(LossType.SIGMOID_NORM);
      case "loss_simpo_gamma0.5" -> DpoConfig.of(LossType.SIMPO).withSimpoGamma(0.5);
      case "loss_simpo_gamma0.5_ls0.1" -> DpoConfig.of(LossType.SIMPO).withSimpoGamma(0.5).withLabelSmoothing(0.1);
      case "loss_orpo_lambda0.1" -> DpoConfig.of(LossType.ORPO).withOrpoLambda(0.1);
      case "loss_mpo_0.8sigmoid_0.2bco_pair_1sft" -> sigmoid.withLosses(
          List.of(new LossTerm(LossType.SIGMOID, 0.8), new LossTerm(LossType.BCO_PAIR, 0.2), new LossTerm(LossType.SFT, 1)));
      case "loss_sigmoid_forward_kl" -> sigmoid.withFDivergence(FDivergence.FORWARD_KL, 0.5);
      case "loss_sigmoid_js_divergence" -> sigmoid.withFDivergence(FDivergence.JS_DIVERGENCE, 0.5);
      case "loss_sigmoid_alpha_divergence0.5" -> sigmoid.withFDivergence(FDivergence.ALPHA_DIVERGENCE, 0.5);
      case "loss_sigmoid_wpo" -> sigmoid.withWeighting(true);
      case "loss_ipo_mean" -> DpoConfig.of(LossType.IPO).withAggregation(LogProbAggregation.MEAN);
      case "loss_sigmoid_norm_mean" -> DpoConfig.of(LossType.SIGMOID_NORM).withAggregation(LogProbAggregation.MEAN);
      case "loss_sigmoid_mean_rpo1" -> sigmoid.withAggregation(LogProbAggregation.MEAN).withRpoAlpha(1);
      case "loss_sigmoid_ld_alpha0.5" -> sigmoid.withLdAlpha(0.5);
      case "loss_plackett_luce" -> DpoConfig.of(LossType.PLACKETT_LUCE);
      case "loss_plackett_luce_mean" -> DpoConfig.of(LossType.PLACKETT_LUCE).withAggregation(LogProbAggregation.MEAN);
      case "loss_plackett_luce_wpo" -> DpoConfig.of(LossType.PLACKETT_LUCE).withWeighting(true);
      case "loss_plackett_luce_ld_alpha0.5" -> DpoConfig.of(LossType.PLACKETT_LUCE).withLdAlpha(0.5);
      case "loss_plackett_luce_forward_kl" -> DpoConfig.of(LossType.PLACKETT_LUCE).withFDivergence(FDivergence.FORWARD_KL, 0.5);
      default -> throw new IllegalArgumentException(column);
    };
  }

  static Stream<Arguments> columns() throws IOException {
    List<Arguments> out = new ArrayList<>();
    // llama3, qwen3 and gemma3 hold the columns their log-prob columns determine (see losses.py)
    for (String arch : List.of("gpt2", "llama", "llama3", "qwen3", "gemma3")) {
      JsonNode first = JSON.readTree(ReferenceVectors.dir(arch).resolve("expected.json").toFile()).get(0);
      first.fieldNames().forEachRemaining(name -> {
        if (name.startsWith("loss_") && !name.startsWith("loss_kto")) out.add(Arguments.of(arch, name));
      });
    }
    return out.stream();
  }

  /**
   * A column loss_k&lt;K&gt;_&lt;setting&gt; holds the loss of row i's ranking of K responses (see {@link
   * #rankings}) under the setting of column loss_&lt;setting&gt;; any other, the loss of row i's pair.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("columns")
  void loss_matchesTheIndependentValues(String arch, String column) throws IOException {
    Path dir = ReferenceVectors.dir(arch);
    JsonNode expected = JSON.readTree(dir.resolve("expected.json").toFile());
    Case c = Case.of(dir, column);
    List<PreferenceScore> scores = score(arch, c.config(), c.batch());
    for (int i = 0; i < scores.size(); i++) {
      double want = expected.get(i).get(column).asDouble();
      assertThat(scores.get(i).loss()).as("%s %s", expected.get(i).get("id").asText(), column).isCloseTo(want, within(1e-4 * Math.max(1e-3, Math.abs(want))));
    }
  }

  static Stream<String> gpt2Columns() throws IOException {
    return columns().filter(a -> a.get()[0].equals("gpt2")).map(a -> (String) a.get()[1]);
  }

  /** The training step computes the same losses: the loss it reports (of the weights before its update) is the column's mean. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("gpt2Columns")
  void trainingStep_reportsTheColumnsMean(String column) throws IOException {
    Path dir = ReferenceVectors.dir("gpt2");
    JsonNode expected = JSON.readTree(dir.resolve("expected.json").toFile());
    Case c = Case.of(dir, column);
    double want = 0;
    for (JsonNode row : expected) want += row.get(column).asDouble() / expected.size();
    try (CausalLm policy = ModelFolder.load(dir.resolve("policy"), manager); CausalLm reference = ModelFolder.load(dir.resolve("reference"), manager);
        DpoStep step = new DpoStep(policy, reference, c.config(), new LinearWarmup(1e-5, 0), 1.0, 0.0)) {
      assertClose(step.step(List.of(c.batch())).loss(), want);
    }
  }

  /** A folder's pairs, or its rankings for a column loss_k&lt;K&gt;_&lt;setting&gt;, with the column's setting. */
  private record Case(DpoConfig config, List<PreferenceExample> batch) {
    static Case of(Path dir, String column) throws IOException {
      Matcher ranking = RANKING_COLUMN.matcher(column);
      if (!ranking.matches()) return new Case(configOf(column), examples(dir));
      return new Case(configOf("loss_" + ranking.group(2)), rankings(examples(dir), Integer.parseInt(ranking.group(1))));
    }
  }

  @ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.ValueSource(strings = {"gpt2", "llama"})
  void plackettLuce_ofPairs_isTheSigmoidColumn(String arch) throws IOException {
    Path dir = ReferenceVectors.dir(arch);
    JsonNode expected = JSON.readTree(dir.resolve("expected.json").toFile());
    List<PreferenceScore> scores = score(arch, DpoConfig.of(LossType.PLACKETT_LUCE), examples(dir));
    for (int i = 0; i < scores.size(); i++) {
      double want = expected.get(i).get("loss_sigmoid_beta0.1").asDouble();
      assertThat(scores.get(i).loss()).isCloseTo(want, within(1e-4 * Math.abs(want)));
    }
  }

  @ParameterizedTest(name = "{0} swapped={1} lambda_d={2} lambda_u={3}")
  @org.junit.jupiter.params.provider.CsvSource({
      "gpt2, false, 1, 1", "gpt2, true, 1, 1", "gpt2, false, 1.33, 0.75", "llama, false, 1, 1", "llama, true, 1, 1", "llama, false, 1.33, 0.75"})
  void kto_onTheTenResponsesAsLabelledExamples_matchesTheIndependentValues(String arch, boolean swapped, double desirableWeight, double undesirableWeight)
      throws IOException {
    Path dir = ReferenceVectors.dir(arch);
    JsonNode expected = JSON.readTree(dir.resolve("expected.json").toFile());
    List<LabelledExample> labelled = labelled(dir);
    CausalLm[] models = models(arch);
    String klSuffix = swapped ? "_swapped" : "";
    String suffix = klSuffix + (desirableWeight == 1 && undesirableWeight == 1 ? "" : "_lambda_d" + desirableWeight + "_lambda_u" + undesirableWeight);
    try (KtoLoss kto = new KtoLoss(DpoConfig.defaults().withKtoWeights(desirableWeight, undesirableWeight), manager)) {
      List<LabelledScorer.LabelledScore> scores = new LabelledScorer(models[swapped ? 1 : 0], models[swapped ? 0 : 1], kto).score(labelled);
      for (int i = 0; i < expected.size(); i++) {
        JsonNode want = expected.get(i);
        double kl = want.get("kto_kl" + klSuffix).asDouble();
        assertThat(scores.get(2 * i).kl()).isCloseTo(kl, within(1e-4 * Math.max(1, kl)));
        assertClose(scores.get(2 * i).loss(), want.get("loss_kto_chosen" + suffix).asDouble());
        assertClose(scores.get(2 * i + 1).loss(), want.get("loss_kto_rejected" + suffix).asDouble());
      }
    }
  }

  /** KTO's training step on the ten labelled responses (policy and reference swapped, z_ref > 0): its loss is the mean of both columns, its kl z_ref. */
  @org.junit.jupiter.api.Test
  void kto_trainingStep_reportsTheColumnsMeanAndZref() throws IOException {
    Path dir = ReferenceVectors.dir("gpt2");
    JsonNode expected = JSON.readTree(dir.resolve("expected.json").toFile());
    double want = 0;
    for (JsonNode row : expected) want += (row.get("loss_kto_chosen_swapped").asDouble() + row.get("loss_kto_rejected_swapped").asDouble()) / (2 * expected.size());
    try (CausalLm policy = ModelFolder.load(dir.resolve("reference"), manager); CausalLm reference = ModelFolder.load(dir.resolve("policy"), manager);
        DpoStep step = new DpoStep(policy, reference, DpoConfig.defaults(), new LinearWarmup(1e-5, 0), 1.0, 0.0)) {
      StepMetrics m = step.step(List.of(), List.of(labelled(dir)));
      assertClose(m.loss(), want);
      assertClose(m.kl(), expected.get(0).get("kto_kl_swapped").asDouble());
    }
  }

  /** The folder's ten responses as labelled examples, chosen desirable and rejected undesirable: c0, r0, c1, r1, ... */
  private static List<LabelledExample> labelled(Path dir) throws IOException {
    List<LabelledExample> out = new ArrayList<>();
    for (PreferenceExample e : examples(dir)) {
      out.add(new LabelledExample(e.id() + "/chosen", e.prompt(), e.responses().get(0), true, 1));
      out.add(new LabelledExample(e.id() + "/rejected", e.prompt(), e.responses().get(1), false, 1));
    }
    return out;
  }

  private static void assertClose(double got, double want) {
    assertThat(got).isCloseTo(want, within(1e-4 * Math.max(1e-3, Math.abs(want))));
  }

  private static List<PreferenceScore> score(String arch, DpoConfig config, List<PreferenceExample> examples) {
    CausalLm[] models = models(arch);
    try (PreferenceLoss loss = new PreferenceLoss(config, manager)) {
      return new PreferenceScorer(models[0], models[1], loss).score(examples);
    }
  }

  /** Policy and reference of an architecture, loaded once. */
  private static CausalLm[] models(String arch) {
    return MODELS.computeIfAbsent(arch, a -> new CausalLm[] {
        ModelFolder.load(ReferenceVectors.dir(a).resolve("policy"), manager), ModelFolder.load(ReferenceVectors.dir(a).resolve("reference"), manager)});
  }

  /**
   * Row i's ranking, best first, as losses.py builds it: prompt i with chosen i, rejected i, chosen
   * i+1 and rejected i+1 (the last row's next is the first), the first K of them.
   */
  private static List<PreferenceExample> rankings(List<PreferenceExample> pairs, int k) {
    List<PreferenceExample> out = new ArrayList<>();
    for (int i = 0; i < pairs.size(); i++) {
      PreferenceExample next = pairs.get((i + 1) % pairs.size());
      List<int[]> responses = new ArrayList<>(pairs.get(i).responses());
      responses.addAll(next.responses());
      out.add(new PreferenceExample(pairs.get(i).id(), pairs.get(i).prompt(), responses.subList(0, k), 1.0));
    }
    return out;
  }

  private static List<PreferenceExample> examples(Path dir) throws IOException {
    List<PreferenceExample> out = new ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve("pairs.jsonl"))) {
      if (line.isBlank()) continue;
      JsonNode p = JSON.readTree(line);
      out.add(PreferenceExample.pair(p.get("id").asText(), ints(p.get("prompt_ids")), ints(p.get("chosen_ids")), ints(p.get("rejected_ids"))));
    }
    return out;
  }

  private static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
    return out;
  }
}
