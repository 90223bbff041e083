package io.prefstream.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.prefstream.trainer.model.AdapterFolder;
import io.prefstream.trainer.model.LoraConfig;
import io.prefstream.trainer.model.LoraModel;
import io.prefstream.trainer.model.ModelFolder;
import io.prefstream.trainer.model.ModelRecipe;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code score --adapter} and {@code merge}: base + adapter and the merged weights score the same. */
class LoraCommandsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  /** A base model made by init-model and an adapter whose B matrices are random, as after training. */
  private void baseAndAdapter(String arch, String options, Path base, Path adapter) {
    List<String> args = new ArrayList<>(List.of("init-model", "--arch", arch, "--vocab", "300", "--layers", "2", "--hidden", "32",
        "--heads", "4", "--kv-heads", "2", "--intermediate", "64", "--max-positions", "64", "--tie-embeddings", "false",
        "--seed", "11", "--out", base.toString()));
    if (!options.isBlank()) {
      args.addAll(List.of(options.strip().split(" +")));
    }
    Cli init = Cli.run(args.toArray(String[]::new));
    assertThat(init.exitCode()).as(init.err()).isZero();
    try (NDManager manager = NDManager.newBaseManager();
        LoraModel lora = LoraModel.attach(ModelFolder.load(base, manager), new LoraConfig(4, 8, 0, List.of("attention", "mlp")), 1)) {
      Random random = new Random(2);
      lora.parameters().forEach((name, array) -> {
        float[] values = new float[(int) array.size()];
        for (int i = 0; i < values.length; i++) values[i] = (float) random.nextGaussian() * 0.2f;
        array.set(values);
      });
      AdapterFolder.save(lora, adapter, base.toString());
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource(delimiter = '|', value = {
    "llama  | --rope-scaling llama3 --rope-factor 8 --rope-original-max-positions 16",
    "qwen3  | ",
    "gemma3 | --sliding-window 2 --sliding-window-pattern 2 --rope-scaling linear --rope-factor 2",
  })
  void mergedModel_scoresAsBasePlusAdapter_andTheBaseIsUntouched(String arch, String options) throws IOException {
    Path base = tmp.resolve("base");
    Path adapter = tmp.resolve("adapter");
    Path merged = tmp.resolve("merged");
    baseAndAdapter(arch, options == null ? "" : options, base, adapter);
    assertThat(tensorNames(adapter.resolve(AdapterFolder.WEIGHTS))).contains( // PEFT's module names, as HF PEFT and vLLM load them
        "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
        "base_model.model.model.layers.1.mlp.down_proj.lora_B.weight");
    byte[] baseWeights = Files.readAllBytes(base.resolve(ModelFolder.WEIGHTS));
    Path pairs = tmp.resolve("pairs.jsonl");
    Files.writeString(pairs, "{\"id\":\"a\",\"prompt_ids\":[1,2,3],\"chosen_ids\":[4,5],\"rejected_ids\":[6,7,8]}\n"
        + "{\"id\":\"b\",\"prompt_ids\":[9],\"chosen_ids\":[10,11,12],\"rejected_ids\":[13]}\n");

    Cli merge = Cli.run("merge", "--base", base.toString(), "--adapter", adapter.toString(), "--out", merged.toString());
    assertThat(merge.exitCode()).as(merge.err()).isZero();
    Cli withAdapter = Cli.run("score", "--policy", base.toString(), "--adapter", adapter.toString(), "--pairs", pairs.toString());
    Cli withMerged = Cli.run("score", "--policy", merged.toString(), "--reference", base.toString(), "--pairs", pairs.toString());
    assertThat(withAdapter.exitCode()).as(withAdapter.err()).isZero();
    assertThat(withMerged.exitCode()).as(withMerged.err()).isZero();

    List<String> adapted = withAdapter.out().strip().lines().toList();
    List<String> folded = withMerged.out().strip().lines().toList();
    assertThat(adapted).hasSize(2);
    for (int i = 0; i < adapted.size(); i++) {
      JsonNode a = JSON.readTree(adapted.get(i));
      JsonNode m = JSON.readTree(folded.get(i));
      for (String field : List.of("policy_chosen_logp", "policy_rejected_logp", "reference_chosen_logp", "reference_rejected_logp", "loss")) {
        assertThat(m.get(field).asDouble()).as(field).isCloseTo(a.get(field).asDouble(), within(1e-4));
      }
      // the adapter moved the policy away from the base, which is the default reference
      assertThat(a.get("policy_chosen_logp").asDouble()).isNotCloseTo(a.get("reference_chosen_logp").asDouble(), within(1e-3));
    }
    assertThat(Files.readAllBytes(base.resolve(ModelFolder.WEIGHTS))).isEqualTo(baseWeights);
    assertThat(merged.resolve(ModelFolder.CONFIG)).exists();
  }

  /** The tensor names in a safetensors file's header: 8 bytes of little-endian length, then JSON. */
  private static List<String> tensorNames(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    int length = (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    List<String> names = new ArrayList<>();
    JSON.readTree(new String(bytes, 8, length, StandardCharsets.UTF_8)).fieldNames().forEachRemaining(names::add);
    return names;
  }

  @Test
  void score_withoutReferenceOrAdapter_saysWhatIsMissing() throws IOException {
    Path base = tmp.resolve("base");
    new ModelRecipe(ModelRecipe.Arch.GPT2, 257, 1, 16, 2, 2, 32, 64, true).writeRandom(1, base);
    Path pairs = tmp.resolve("pairs.jsonl");
    Files.writeString(pairs, "{\"id\":\"a\",\"prompt_ids\":[1],\"chosen_ids\":[2],\"rejected_ids\":[3]}\n");
    Cli cli = Cli.run("score", "--policy", base.toString(), "--pairs", pairs.toString());
    assertThat(cli.exitCode()).isNotZero();
    assertThat(cli.err()).contains("--reference is required unless --adapter is given");
  }
}
