package io.prefstream.trainer.model;

import io.prefstream.testkit.ReferenceVectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModelFolderTest {

  private static final long[][] IDS = {{1, 2, 3, 4}, {5, 6, 0, 0}};
  private static final long[][] MASK = {{1, 1, 1, 1}, {1, 1, 0, 0}};

  @TempDir Path dir;

  @Test
  void load_acceptsTheTransformerPrefixAndIgnoresGpt2AttentionBuffers() throws Exception {
    Path original = ReferenceVectors.dir("gpt2").resolve("policy");
    Files.copy(original.resolve(ModelFolder.CONFIG), dir.resolve(ModelFolder.CONFIG));
    NDManager m = TinyModels.manager().newSubManager();
    try (m; CausalLm expected = ModelFolder.load(original, TinyModels.manager())) {
      Map<String, NDArray> exported = new LinkedHashMap<>();
      expected.parameters().forEach((name, array) -> exported.put("transformer." + name, array));
      exported.put("lm_head.weight", expected.parameters().get("wte.weight")); // a tied head saved twice
      for (int i = 0; i < 3; i++) {
        exported.put("transformer.h." + i + ".attn.bias", m.ones(new Shape(1, 1, 32, 32)));
        exported.put("transformer.h." + i + ".attn.masked_bias", m.create(-1e4f));
      }
      SafeTensors.write(exported, dir.resolve(ModelFolder.WEIGHTS));

      try (CausalLm loaded = ModelFolder.load(dir, TinyModels.manager())) {
        assertThat(loaded.parameters().keySet()).containsExactlyElementsOf(expected.parameters().keySet());
        assertThat(logits(loaded, m)).containsExactly(logits(expected, m));
      }
    }
  }

  @Test
  void load_namesEveryMissingTensor() throws Exception {
    writeWithout(TinyModels.gpt2(true), List.of("h.1.mlp.c_fc.bias", "ln_f.weight"));
    assertThatThrownBy(() -> ModelFolder.load(dir, TinyModels.manager()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("h.1.mlp.c_fc.bias")
        .hasMessageContaining("ln_f.weight")
        .hasMessageContaining("2 of");
  }

  @Test
  void load_namesAMisShapedTensorWithExpectedAndActualShapes() throws Exception {
    writeWithout(TinyModels.llama("llama", 2, false, false), List.of());
    LlamaConfig wider = TinyModels.llama("llama", 4, false, false); // k/v projections now (16, 16), stored (8, 16)
    Files.writeString(dir.resolve(ModelFolder.CONFIG), wider.toJson().toString());
    assertThatThrownBy(() -> ModelFolder.load(dir, TinyModels.manager()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("model.layers.0.self_attn.k_proj.weight")
        .hasMessageContaining("(8, 16)")
        .hasMessageContaining("expected (16, 16)");
  }

  @Test
  void saveThenLoad_holdsIdenticalTensorsAndConfig() {
    List<ModelConfig> configs = List.of(TinyModels.gpt2(false), TinyModels.llama("qwen2", 2, false, false),
        TinyModels.llama3(2, true), TinyModels.qwen3(2, false), TinyModels.gemma3(1, false));
    for (int i = 0; i < configs.size(); i++) {
      ModelConfig config = configs.get(i);
      Path folder = dir.resolve(config.modelType() + i);
      try (CausalLm model = TinyModels.random(config, 7)) {
        ModelFolder.save(model, folder);
        try (CausalLm loaded = ModelFolder.load(folder, TinyModels.manager())) {
          assertThat(loaded.config()).isEqualTo(config);
          assertThat(loaded.parameters().keySet()).containsExactlyElementsOf(model.parameters().keySet());
          model.parameters().forEach((name, array) ->
              assertThat(loaded.parameters().get(name).toFloatArray()).as(name).containsExactly(array.toFloatArray()));
        }
      }
    }
  }

  @Test
  void overTheShardSize_savesHuggingFaceShardsAndIndex_andLoadsThemBack() throws Exception {
    Path folder = dir.resolve("sharded");
    try (CausalLm model = TinyModels.random(TinyModels.llama("llama", 2, false, false), 11)) {
      long total = model.parameters().values().stream().mapToLong(a -> a.getShape().size() * Float.BYTES).sum();
      ModelFolder.save(model, folder, total / 3);
      var index = new ObjectMapper().readTree(folder.resolve(ModelFolder.WEIGHTS_INDEX).toFile());
      assertThat(index.at("/metadata/total_size").asLong()).isEqualTo(total);
      assertThat(folder.resolve(ModelFolder.WEIGHTS)).doesNotExist();
      List<String> shards = new java.util.ArrayList<>();
      index.get("weight_map").forEach(n -> { if (!shards.contains(n.asText())) shards.add(n.asText()); });
      assertThat(shards).hasSizeGreaterThanOrEqualTo(3).allMatch(n -> n.matches("model-0000\\d-of-0000" + shards.size() + "\\.safetensors"));
      assertThat(index.get("weight_map").size()).isEqualTo(model.parameters().size());
      try (CausalLm loaded = ModelFolder.load(folder, TinyModels.manager())) {
        model.parameters().forEach((name, array) ->
            assertThat(loaded.parameters().get(name).toFloatArray()).as(name).containsExactly(array.toFloatArray()));
      }
    }
  }

  @Test
  void save_keepsSourceConfigFieldsAndCopiesTokenizerFiles() throws Exception {
    try (CausalLm model = TinyModels.random(TinyModels.gpt2(true), 8)) {
      ModelFolder.save(model, dir.resolve("a"));
    }
    Path a = dir.resolve("a");
    var config = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree(a.resolve(ModelFolder.CONFIG).toFile());
    config.put("bos_token_id", 7);
    Files.writeString(a.resolve(ModelFolder.CONFIG), config.toString());
    Files.writeString(a.resolve("tokenizer.json"), "{\"marker\": 1}");
    try (CausalLm loaded = ModelFolder.load(a, TinyModels.manager())) {
      ModelFolder.save(loaded, dir.resolve("b"));
    }
    assertThat(new ObjectMapper().readTree(dir.resolve("b").resolve(ModelFolder.CONFIG).toFile()).get("bos_token_id").asInt()).isEqualTo(7);
    assertThat(dir.resolve("b").resolve("tokenizer.json")).hasContent("{\"marker\": 1}");
  }

  @ParameterizedTest
  @ValueSource(strings = {"BF16", "F16"})
  void load_readsHalfPrecisionWeightsAsFloat32(String dtype) throws Exception {
    try (CausalLm model = TinyModels.random(TinyModels.llama("llama", 2, true, false), 9)) {
      RawSafeTensors file = new RawSafeTensors();
      Map<String, float[]> exact = new LinkedHashMap<>();
      model.parameters().forEach((name, array) -> {
        float[] values = array.toFloatArray();
        for (int i = 0; i < values.length; i++) {
          values[i] = Math.round(values[i] * 64) / 64f; // k/64 with |k| < 256: 8 significant bits, exact in both formats
        }
        exact.put(name, values);
        file.put(name, dtype, array.getShape().getShape(), RawSafeTensors.encode(values, dtype));
      });
      file.write(dir.resolve(ModelFolder.WEIGHTS));
      Files.writeString(dir.resolve(ModelFolder.CONFIG), model.config().toJson().toString());

      try (CausalLm loaded = ModelFolder.load(dir, TinyModels.manager())) {
        exact.forEach((name, values) -> {
          NDArray w = loaded.parameters().get(name);
          assertThat(w.getDataType()).isEqualTo(ai.djl.ndarray.types.DataType.FLOAT32);
          assertThat(w.toFloatArray()).as(name).containsExactly(values);
        });
      }
    }
  }

  @Test
  void load_readsAShardedCheckpointThroughItsIndex() throws Exception {
    NDManager m = TinyModels.manager().newSubManager();
    try (m; CausalLm model = TinyModels.random(TinyModels.gpt2(true), 10)) {
      Map<String, NDArray> first = new LinkedHashMap<>();
      Map<String, NDArray> second = new LinkedHashMap<>();
      var weightMap = new ObjectMapper().createObjectNode();
      model.parameters().forEach((name, array) -> {
        boolean early = name.startsWith("h.0.") || name.startsWith("w");
        (early ? first : second).put(name, array);
        weightMap.put(name, early ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
      });
      SafeTensors.write(first, dir.resolve("model-00001-of-00002.safetensors"));
      SafeTensors.write(second, dir.resolve("model-00002-of-00002.safetensors"));
      var index = new ObjectMapper().createObjectNode();
      index.putObject("metadata").put("total_size", 0);
      index.set("weight_map", weightMap);
      Files.writeString(dir.resolve(ModelFolder.WEIGHTS_INDEX), index.toString());
      Files.writeString(dir.resolve(ModelFolder.CONFIG), model.config().toJson().toString());

      try (CausalLm loaded = ModelFolder.load(dir, TinyModels.manager())) {
        assertThat(logits(loaded, m)).containsExactly(logits(model, m));
      }
    }
  }

  @Test
  void random_sameSeedGivesIdenticalBytes() throws Exception {
    for (String name : List.of("a", "b")) {
      try (CausalLm model = ModelFolder.random(TinyModels.llama("llama", 2, false, false), 42, TinyModels.manager())) {
        ModelFolder.save(model, dir.resolve(name));
      }
    }
    try (CausalLm other = ModelFolder.random(TinyModels.llama("llama", 2, false, false), 43, TinyModels.manager())) {
      ModelFolder.save(other, dir.resolve("c"));
    }
    byte[] a = Files.readAllBytes(dir.resolve("a").resolve(ModelFolder.WEIGHTS));
    assertThat(Files.readAllBytes(dir.resolve("b").resolve(ModelFolder.WEIGHTS))).isEqualTo(a);
    assertThat(Files.readAllBytes(dir.resolve("c").resolve(ModelFolder.WEIGHTS))).isNotEqualTo(a);
    assertThat(dir.resolve("b").resolve(ModelFolder.CONFIG)).hasSameTextualContentAs(dir.resolve("a").resolve(ModelFolder.CONFIG));
  }

  @Test
  void random_initializesNormsToOneBiasesToZeroAndWeightsSmall() {
    try (CausalLm model = ModelFolder.random(TinyModels.gpt2(true), 1, TinyModels.manager())) {
      assertThat(model.parameters().get("h.0.ln_1.weight").toFloatArray()).containsOnly(1f);
      assertThat(model.parameters().get("h.0.attn.c_attn.bias").toFloatArray()).containsOnly(0f);
      NDArray w = model.parameters().get("wte.weight");
      double std = Math.sqrt(w.square().mean().getFloat());
      assertThat(std).isBetween(0.018, 0.022);
    }
  }

  @Test
  void random_initializesGemmasNormWeightsToZero_aGainOfOne() {
    try (CausalLm model = ModelFolder.random(TinyModels.gemma3(2, true), 1, TinyModels.manager())) {
      for (String norm : List.of("model.layers.0.input_layernorm.weight", "model.layers.0.self_attn.q_norm.weight", "model.norm.weight")) {
        assertThat(model.parameters().get(norm).toFloatArray()).as(norm).containsOnly(0f);
      }
    }
  }

  private static float[] logits(CausalLm model, NDManager m) {
    return model.logits(TinyModels.ids(m, IDS), TinyModels.ids(m, MASK)).toFloatArray();
  }

  /** A random model's folder with some tensors left out. */
  private void writeWithout(ModelConfig config, List<String> leftOut) throws Exception {
    try (CausalLm model = ModelFolder.random(config, 11, TinyModels.manager())) {
      Map<String, NDArray> kept = new LinkedHashMap<>(model.parameters());
      leftOut.forEach(kept::remove);
      SafeTensors.write(kept, dir.resolve(ModelFolder.WEIGHTS));
      Files.writeString(dir.resolve(ModelFolder.CONFIG), config.toJson().toString());
    }
  }
}
