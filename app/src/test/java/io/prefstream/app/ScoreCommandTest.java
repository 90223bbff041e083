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

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "gpt2, sigmoid, 0, loss_sigmoid_beta0.1",
    "gpt2, ipo, 0, loss_ipo_beta0.1",
    "gpt2, hinge, 0, loss_hinge_beta0.1",
    "gpt2, cdpo, 0.2, loss_cdpo_ls0.2_beta0.1",
    "llama, sigmoid, 0, loss_sigmoid_beta0.1",
    "llama, ipo, 0, loss_ipo_beta0.1",
    "llama, hinge, 0, loss_hinge_beta0.1",
    "llama, cdpo, 0.2, loss_cdpo_ls0.2_beta0.1",
    "llama3, sigmoid, 0, loss_sigmoid_beta0.1",
    "qwen3, ipo, 0, loss_ipo_beta0.1",
    "gemma3, cdpo, 0.2, loss_cdpo_ls0.2_beta0.1",
  })
  void score_reproducesTheReferenceVectors(String arch, String loss, String smoothing, String expectedLoss) throws IOException {
    Path dir = ReferenceVectors.dir(arch);
    Cli cli = Cli.run("score", "--policy", dir.resolve("policy").toString(), "--reference", dir.resolve("reference").toString(),
        "--pairs", dir.resolve("pairs.jsonl").toString(), "--beta", "0.1", "--loss", loss, "--label-smoothing", smoothing);
    assertThat(cli.exitCode()).as(cli.err()).isZero();

    JsonNode expected = JSON.readTree(dir.resolve("expected.json").toFile());
    List<String> lines = cli.out().lines().toList();
    assertThat(lines).hasSize(expected.size());
    for (int i = 0; i < lines.size(); i++) {
      JsonNode got = JSON.readTree(lines.get(i));
      JsonNode want = expected.get(i);
      assertThat(got.get("id").asText()).isEqualTo(want.get("id").asText());
      for (String field : List.of("policy_chosen_logp", "policy_rejected_logp", "reference_chosen_logp", "reference_rejected_logp")) {
        assertClose(got.get(field).asDouble(), want.get(field).asDouble(), want.get("id") + " " + field);
      }
      assertClose(got.get("loss").asDouble(), want.get(expectedLoss).asDouble(), want.get("id") + " " + expectedLoss);
      double chosenReward = 0.1 * (want.get("policy_chosen_logp").asDouble() - want.get("reference_chosen_logp").asDouble());
      assertThat(got.get("chosen_reward").asDouble()).isCloseTo(chosenReward, within(1e-4 * Math.max(1, Math.abs(chosenReward))));
    }
  }

  @Test
  void rankings_printLogProbsPerResponse() throws IOException {
    Path dir = ReferenceVectors.dir("gpt2");
    Path file = Files.createTempFile("rankings", ".jsonl");
    Files.writeString(file, "{\"id\":\"r1\",\"prompt_ids\":[1,2],\"responses_ids\":[[3,4],[5],[6,7,8]]}\n");
    Cli cli = Cli.run("score", "--policy", dir.resolve("policy").toString(), "--reference", dir.resolve("reference").toString(),
        "--pairs", file.toString(), "--loss", "plackett-luce");
    assertThat(cli.exitCode()).as(cli.err()).isZero();
    JsonNode got = JSON.readTree(cli.out().strip());
    assertThat(got.get("policy_logps")).hasSize(3);
    assertThat(got.get("reference_logps")).hasSize(3);
    assertThat(got.get("loss").asDouble()).isPositive();
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
