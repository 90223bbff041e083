package io.prefstream.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.prefstream.testkit.ReferenceVectors;
import io.prefstream.trainer.model.ModelRecipe;
import io.prefstream.trainer.tokenize.TextTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code prefstream score} reproduces the independent float64 values of testkit/reference-vectors. */
class ScoreCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final double RELATIVE = 1e-4;

  // every loss is checked against these columns in the trainer's LossReferenceVectorsTest; here the command line's options
  @ParameterizedTest(name = "{0} {1}")
  @CsvSource(delimiter = '|', value = {
    "gpt2 | sigmoid | loss_sigmoid_beta0.1",
    "gpt2 | ipo | loss_ipo_beta0.1",
    "gpt2 | hinge | loss_hinge_beta0.1",
    "gpt2 | cdpo --label-smoothing 0.2 | loss_cdpo_ls0.2_beta0.1",
    "gpt2 | sigmoid,bco_pair,sft --loss-weights 0.8,0.2,1 | loss_mpo_0.8sigmoid_0.2bco_pair_1sft",
    "gpt2 | aot | loss_aot",
    "gpt2 | sigmoid --f-divergence alpha_divergence --f-alpha-coef 0.5 | loss_sigmoid_alpha_divergence0.5",
    "llama | sigmoid | loss_sigmoid_beta0.1",
    "llama | ipo | loss_ipo_beta0.1",
    "llama | hinge | loss_hinge_beta0.1",
    "llama | cdpo --label-smoothing 0.2 | loss_cdpo_ls0.2_beta0.1",
    "llama | simpo --simpo-gamma 0.5 | loss_simpo_gamma0.5",
    "llama | sigmoid --use-weighting | loss_sigmoid_wpo",
    "llama | sigmoid --logp mean --rpo-alpha 1 | loss_sigmoid_mean_rpo1",
    "llama | sigmoid --ld-alpha 0.5 | loss_sigmoid_ld_alpha0.5",
    "llama3 | sigmoid | loss_sigmoid_beta0.1",
    "qwen3 | ipo | loss_ipo_beta0.1",
    "gemma3 | cdpo --label-smoothing 0.2 | loss_cdpo_ls0.2_beta0.1",
  })
  void score_reproducesTheReferenceVectors(String arch, String lossOptions, String expectedLoss) throws IOException {
    Path dir = ReferenceVectors.dir(arch);
    List<String> args = new java.util.ArrayList<>(List.of("score", "--policy", dir.resolve("policy").toString(), "--reference", dir.resolve("reference").toString(),
        "--pairs", dir.resolve("pairs.jsonl").toString(), "--beta", "0.1", "--loss"));
    args.addAll(List.of(lossOptions.split(" ")));
    Cli cli = Cli.run(args.toArray(String[]::new));
    assertThat(cli.exitCode()).as(cli.err()).isZero();

    JsonNode expected = JSON.readTree(dir.resolve("expected.json").toFile());
    List<String> lines = cli.out().lines().toList();
    assertThat(lines).hasSize(expected.size());
    for (int i = 0; i < lines.size(); i++) {
      JsonNode got = JSON.readTree(lines.get(i));
      JsonNode want = expected.get(i);
      assertThat(got.get("id").asText()).isEqualTo(want.get("id").asText());
      assertClose(got.get("loss").asDouble(), want.get(expectedLoss).asDouble(), want.get("id") + " " + expectedLoss);
      if (!lossOptions.equals("sigmoid")) continue; // the log-probs once per architecture, as summed
      for (String field : List.of("policy_chosen_logp", "policy_rejected_logp", "reference_chosen_logp", "reference_rejected_logp")) {
        assertClose(got.get(field).asDouble(), want.get(field).asDouble(), want.get("id") + " " + field);
      }
      double chosenReward = 0.1 * (want.get("policy_chosen_logp").asDouble() - want.get("reference_chosen_logp").asDouble());
      assertThat(got.get("chosen_reward").asDouble()).isCloseTo(chosenReward, within(1e-4 * Math.max(1, Math.abs(chosenReward))));
    }
  }

  @Test
  void kto_scoresLabelledResponses_asTheReferenceVectors(@TempDir Path tmp) throws IOException {
    Path dir = ReferenceVectors.dir("llama");
    Path file = tmp.resolve("labelled.jsonl");
    StringBuilder lines = new StringBuilder();
    for (String line : Files.readAllLines(dir.resolve("pairs.jsonl"))) { // chosen desirable, rejected undesirable: c0, r0, c1, ...
      if (line.isBlank()) continue;
      JsonNode p = JSON.readTree(line);
      lines.append(labelled(p, "chosen_ids", true)).append('\n').append(labelled(p, "rejected_ids", false)).append('\n');
    }
    Files.writeString(file, lines.toString());
    // the reference vectors' swapped columns: the reference folder as the policy, where z_ref > 0
    Cli cli = Cli.run("score", "--policy", dir.resolve("reference").toString(), "--reference", dir.resolve("policy").toString(),
        "--pairs", file.toString(), "--loss", "kto");
    assertThat(cli.exitCode()).as(cli.err()).isZero();
    JsonNode expected = JSON.readTree(dir.resolve("expected.json").toFile());
    List<String> out = cli.out().lines().toList();
    assertThat(out).hasSize(2 * expected.size());
    for (int i = 0; i < expected.size(); i++) {
      JsonNode chosen = JSON.readTree(out.get(2 * i));
      JsonNode rejected = JSON.readTree(out.get(2 * i + 1));
      assertClose(chosen.get("loss").asDouble(), expected.get(i).get("loss_kto_chosen_swapped").asDouble(), "chosen " + i);
      assertClose(rejected.get("loss").asDouble(), expected.get(i).get("loss_kto_rejected_swapped").asDouble(), "rejected " + i);
      assertClose(chosen.get("kl").asDouble(), expected.get(i).get("kto_kl_swapped").asDouble(), "kl");
      assertThat(chosen.get("label").asBoolean()).isTrue();
    }
  }

  private static String labelled(JsonNode pair, String response, boolean desirable) throws IOException {
    var o = JSON.createObjectNode().put("id", pair.get("id").asText() + (desirable ? "+" : "-"));
    o.set("prompt_ids", pair.get("prompt_ids"));
    o.set("response_ids", pair.get(response));
    return JSON.writeValueAsString(o.put("label", desirable));
  }

  /** Row i's ranking as losses.py builds it: prompt i with chosen i, rejected i and chosen i+1; its loss is column loss_k3_plackett_luce. */
  @Test
  void rankings_printLogProbsPerResponse_andReproduceThePlackettLuceColumn(@TempDir Path tmp) throws IOException {
    Path dir = ReferenceVectors.dir("gpt2");
    List<JsonNode> pairs = new java.util.ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve("pairs.jsonl"))) if (!line.isBlank()) pairs.add(JSON.readTree(line));
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < pairs.size(); i++) {
      JsonNode p = pairs.get(i);
      var ranking = JSON.createObjectNode().put("id", p.get("id").asText());
      ranking.set("prompt_ids", p.get("prompt_ids"));
      ranking.putArray("responses_ids").add(p.get("chosen_ids")).add(p.get("rejected_ids")).add(pairs.get((i + 1) % pairs.size()).get("chosen_ids"));
      lines.append(JSON.writeValueAsString(ranking)).append('\n');
    }
    Path file = tmp.resolve("rankings.jsonl");
    Files.writeString(file, lines.toString());
    Cli cli = Cli.run("score", "--policy", dir.resolve("policy").toString(), "--reference", dir.resolve("reference").toString(),
        "--pairs", file.toString(), "--beta", "0.1", "--loss", "plackett-luce");
    assertThat(cli.exitCode()).as(cli.err()).isZero();
    JsonNode expected = JSON.readTree(dir.resolve("expected.json").toFile());
    List<String> out = cli.out().lines().toList();
    assertThat(out).hasSize(expected.size());
    for (int i = 0; i < out.size(); i++) {
      JsonNode got = JSON.readTree(out.get(i));
      assertThat(got.get("policy_logps")).hasSize(3);
      assertThat(got.get("reference_logps")).hasSize(3);
      assertClose(got.get("policy_logps").get(0).asDouble(), expected.get(i).get("policy_chosen_logp").asDouble(), "best response's log-prob " + i);
      assertClose(got.get("loss").asDouble(), expected.get(i).get("loss_k3_plackett_luce").asDouble(), "ranking " + i);
    }
  }

  @Test
  void badLine_isNamedAndNothingIsPrinted(@TempDir Path tmp) throws IOException {
    Path dir = ReferenceVectors.dir("gpt2");
    Path file = tmp.resolve("pairs.jsonl");
    Files.writeString(file, "{\"id\":\"ok\",\"prompt_ids\":[1],\"chosen_ids\":[2],\"rejected_ids\":[3]}\n{\"id\":\"bad\",\"prompt_ids\":[1],\"chosen_ids\":\"x\"}\n");
    Cli cli = Cli.run("score", "--policy", dir.resolve("policy").toString(), "--reference", dir.resolve("reference").toString(),
        "--pairs", file.toString());
    assertThat(cli.exitCode()).isNotZero();
    assertThat(cli.out()).isEmpty();
    assertThat(cli.err()).contains("line 2").contains("chosen_ids");
  }

  @Test
  void conversations_areRenderedWithTheChatTemplate_andShowTokensPrintsTheIds(@TempDir Path tmp) throws IOException {
    Path model = tmp.resolve("model");
    new ModelRecipe(ModelRecipe.Arch.LLAMA, 257, 1, 16, 2, 2, 32, 64, true).writeRandom(3, model);
    Files.writeString(model.resolve("chat_template.jinja"), "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
        + "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}");
    Path file = tmp.resolve("chat.jsonl");
    Files.writeString(file, """
        {"id": "c1", "prompt": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Grüße 👋"}], "chosen": [{"role": "assistant", "content": "Hallo!"}], "rejected": [{"role": "assistant", "content": ""}]}
        {"id": "c2", "prompt": [{"role": "user", "content": "Rank"}], "responses": [[{"role": "assistant", "content": "a"}], [{"role": "assistant", "content": "b"}], [{"role": "assistant", "content": "c"}]]}
        """);
    Cli cli = Cli.run("score", "--policy", model.toString(), "--reference", model.toString(), "--pairs", file.toString(), "--loss", "plackett-luce", "--show-tokens");
    assertThat(cli.exitCode()).as(cli.err()).isZero();

    List<JsonNode> lines = new java.util.ArrayList<>();
    for (String line : cli.out().lines().toList()) lines.add(JSON.readTree(line));
    try (TextTokenizer tokenizer = TextTokenizer.fromFolder(model)) {
      assertThat(tokenizer.decode(ids(lines.get(0).get("prompt_ids"))))
          .isEqualTo("<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nGrüße 👋<|im_end|>\n<|im_start|>assistant\n");
      assertThat(tokenizer.decode(ids(lines.get(0).get("responses_ids").get(0)))).isEqualTo("Hallo!<|im_end|>\n");
      assertThat(tokenizer.decode(ids(lines.get(0).get("responses_ids").get(1)))).isEqualTo("<|im_end|>\n");
    }
    assertThat(lines.get(0).get("loss").asDouble()).isCloseTo(Math.log(2), within(1e-6)); // policy = reference
    assertThat(lines.get(1).get("responses_ids")).hasSize(3);
  }

  private static int[] ids(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
    return out;
  }

  private static void assertClose(double got, double want, String what) {
    assertThat(got).as(what).isCloseTo(want, within(RELATIVE * Math.max(1e-3, Math.abs(want))));
  }
}
