package io.prefstream.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoraModelTest {
  private static final LoraConfig ATTENTION = new LoraConfig(4, 8, 0, List.of(LoraConfig.ATTENTION));
  private static final long[][] TOKENS = {{3, 7, 5, 9, 11}, {4, 2, 8, 0, 0}};
  private static final long[][] MASK = {{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}};

  @TempDir Path tmp;

  private static float[] logits(CausalLm model) {
    try (NDManager m = TinyModels.manager().newSubManager()) {
      return model.logits(TinyModels.ids(m, TOKENS), TinyModels.ids(m, MASK)).toFloatArray();
    }
  }

  /** Gives every B a random value, as training would: a fresh adapter (B = 0) changes nothing. */
  private static void perturb(LoraModel model, long seed) {
    Random random = new Random(seed);
    model.parameters().forEach((name, array) -> {
      if (name.contains("lora_B")) {
        float[] values = new float[(int) array.size()];
        for (int i = 0; i < values.length; i++) values[i] = (float) random.nextGaussian() * 0.3f;
        array.set(values);
      }
    });
  }

  @Test
  void freshAdapter_computesExactlyTheBase_andTheReferenceIsTheBase() {
    for (ModelConfig config : List.of(TinyModels.gpt2(true), TinyModels.llama("llama", 2, false, false))) {
      float[] plain;
      try (CausalLm base = TinyModels.random(config, 3)) {
        plain = logits(base);
      }
      try (LoraModel lora = LoraModel.attach(TinyModels.random(config, 3), ATTENTION, 1)) {
        assertThat(logits(lora)).as(config.getClass().getSimpleName()).isEqualTo(plain);
        perturb(lora, 2);
        assertThat(logits(lora)).isNotEqualTo(plain);
        assertThat(logits(lora.reference())).as("adapters off").isEqualTo(plain);
        assertThat(logits(lora)).as("adapters back on after the reference pass").isNotEqualTo(plain);
      }
    }
  }

  @Test
  void mergedWeights_scoreAsBasePlusAdapter() {
    for (ModelConfig config : List.of(TinyModels.gpt2(false), TinyModels.llama("qwen2", 2, false, false))) {
      try (LoraModel lora = LoraModel.attach(TinyModels.random(config, 4), new LoraConfig(2, 16, 0, List.of("attention", "mlp")), 5)) {
        perturb(lora, 6);
        float[] adapted = logits(lora);
        CausalLm merged = lora.mergeIntoBase();
        float[] mergedLogits = logits(merged);
        for (int i = 0; i < adapted.length; i++) {
          assertThat(mergedLogits[i]).isCloseTo(adapted[i], org.assertj.core.data.Offset.offset(2e-4f));
        }
      }
    }
  }

  @Test
  void adapterFolder_followsPeftLayout_andLoadsBackIdentically() throws Exception {
    Path dir = tmp.resolve("adapter");
    float[] saved;
    try (LoraModel lora = LoraModel.attach(TinyModels.random(TinyModels.llama("llama", 2, false, false), 7), ATTENTION, 8)) {
      perturb(lora, 9);
      saved = logits(lora);
      AdapterFolder.save(lora, dir, "tiny-llama");
    }
    JsonNode config = new ObjectMapper().readTree(dir.resolve(AdapterFolder.CONFIG).toFile());
    assertThat(config.path("peft_type").asText()).isEqualTo("LORA");
    assertThat(config.path("base_model_name_or_path").asText()).isEqualTo("tiny-llama");
    assertThat(config.path("r").asInt()).isEqualTo(4);
    assertThat(config.path("lora_alpha").isIntegralNumber()).isTrue();
    assertThat(config.path("lora_alpha").asInt()).isEqualTo(8);
    assertThat(config.path("fan_in_fan_out").asBoolean()).isFalse();
    assertThat(config.path("target_modules").toString()).isEqualTo("[\"q_proj\",\"k_proj\",\"v_proj\",\"o_proj\"]");
    try (SafeTensors file = SafeTensors.open(dir.resolve(AdapterFolder.WEIGHTS))) {
      Map<String, SafeTensors.Entry> entries = file.entries();
      assertThat(entries).hasSize(2 * 4 * 2); // 2 layers × 4 projections × (A, B)
      // hidden 16, 4 heads of 4, 2 k/v heads: q (16 -> 16), k and v (16 -> 8)
      assertThat(entries.get("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").shape()).isEqualTo(new Shape(4, 16));
      assertThat(entries.get("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight").shape()).isEqualTo(new Shape(16, 4));
      assertThat(entries.get("base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight").shape()).isEqualTo(new Shape(8, 4));
      assertThat(entries.get("base_model.model.model.layers.1.self_attn.o_proj.lora_A.weight").shape()).isEqualTo(new Shape(4, 16));
    }
    try (LoraModel loaded = AdapterFolder.load(dir, TinyModels.random(TinyModels.llama("llama", 2, false, false), 7))) {
      assertThat(logits(loaded)).isEqualTo(saved);
    }
  }

  @Test
  void gpt2Adapter_namesItsModulesAsPeftDoes() throws Exception {
    Path dir = tmp.resolve("gpt2-adapter");
    try (LoraModel lora = LoraModel.attach(TinyModels.random(TinyModels.gpt2(true), 1), new LoraConfig(8, 16, 0.05, List.of("attention", "mlp")), 1)) {
      AdapterFolder.save(lora, dir, "gpt2");
    }
    JsonNode config = new ObjectMapper().readTree(dir.resolve(AdapterFolder.CONFIG).toFile());
    assertThat(config.path("fan_in_fan_out").asBoolean()).isTrue();
    assertThat(config.path("target_modules").toString()).isEqualTo("[\"c_attn\",\"attn.c_proj\",\"c_fc\",\"mlp.c_proj\"]");
    try (SafeTensors file = SafeTensors.open(dir.resolve(AdapterFolder.WEIGHTS))) {
      // n_embd 16, n_inner 48: c_attn 16 -> 48, c_fc 16 -> 48, mlp.c_proj 48 -> 16
      assertThat(file.entries().get("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight").shape()).isEqualTo(new Shape(8, 16));
      assertThat(file.entries().get("base_model.model.transformer.h.0.attn.c_attn.lora_B.weight").shape()).isEqualTo(new Shape(48, 8));
      assertThat(file.entries().get("base_model.model.transformer.h.1.attn.c_proj.lora_B.weight").shape()).isEqualTo(new Shape(16, 8));
      assertThat(file.entries().get("base_model.model.transformer.h.1.mlp.c_proj.lora_A.weight").shape()).isEqualTo(new Shape(8, 48));
      assertThat(file.entries()).hasSize(2 * 4 * 2);
    }
  }

  @Test
  void unknownTargets_areRefusedWithTheModelsProjections() {
    CausalLm base = TinyModels.random(TinyModels.gpt2(true), 1);
    try {
      assertThatThrownBy(() -> LoraModel.attach(base, new LoraConfig(2, 4, 0, List.of("q_proj")), 1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("[q_proj]")
          .hasMessageContaining("transformer.h.0.attn.c_attn");
    } finally {
      base.close();
    }
  }

  /** A 25M-parameter Llama: its rank-8 attention adapter is a small fraction of the full checkpoint. */
  @Test
  void loraCheckpointOf25MParameterModel_isUnderFivePercentOfTheFullOne() throws Exception {
    LlamaConfig config = new LlamaConfig("llama", 4096, 512, 1536, 6, 8, 8, 64, 1e-6f, 10000.0, RopeScaling.NONE, 512, false, false, false, 0);
    try (NDManager m = TinyModels.manager().newSubManager()) {
      CausalLm base = ModelFolder.random(config, 1, m);
      long parameters = base.parameters().values().stream().mapToLong(NDArray::size).sum();
      assertThat(parameters).isBetween(24_000_000L, 26_000_000L);
      ModelFolder.save(base, tmp.resolve("full"));
      try (LoraModel lora = LoraModel.attach(base, new LoraConfig(8, 16, 0, List.of(LoraConfig.ATTENTION)), 1)) {
        AdapterFolder.save(lora, tmp.resolve("lora"), "base");
      }
    }
    long full = folderBytes(tmp.resolve("full"));
    long adapter = folderBytes(tmp.resolve("lora"));
    assertThat((double) adapter / full).isLessThan(0.05);
  }

  private static long folderBytes(Path dir) throws Exception {
    try (var files = Files.list(dir)) {
      return files.mapToLong(f -> f.toFile().length()).sum();
    }
  }
}
