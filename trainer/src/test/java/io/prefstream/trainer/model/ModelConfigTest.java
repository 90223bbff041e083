package io.prefstream.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** config.json parsing of today's small models: what is read, and every unimplemented setting refused by name. */
class ModelConfigTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** meta-llama/Llama-3.2-1B's config.json, sizes shrunk. */
  private static final String LLAMA_3_2 = """
      {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 128000,
       "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02,
       "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
       "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "pretraining_tp": 1,
       "rms_norm_eps": 1e-05, "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
       "original_max_position_embeddings": 8192, "rope_type": "llama3"}, "rope_theta": 500000.0,
       "tie_word_embeddings": true, "torch_dtype": "bfloat16", "use_cache": true, "vocab_size": 128256}""";

  /** Qwen/Qwen3-0.6B's config.json. */
  private static final String QWEN3 = """
      {"architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 151643,
       "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu", "hidden_size": 1024, "initializer_range": 0.02,
       "intermediate_size": 3072, "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3",
       "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8, "rms_norm_eps": 1e-06,
       "rope_scaling": null, "rope_theta": 1000000, "sliding_window": null, "tie_word_embeddings": true,
       "torch_dtype": "bfloat16", "use_cache": true, "use_sliding_window": false, "vocab_size": 151936}""";

  /** google/gemma-3-1b-it's config.json: the layer kinds by sliding_window_pattern. */
  private static final String GEMMA3_1B = """
      {"architectures": ["Gemma3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
       "attn_logit_softcapping": null, "bos_token_id": 2, "cache_implementation": "hybrid", "eos_token_id": [1, 106],
       "final_logit_softcapping": null, "head_dim": 256, "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 1152,
       "initializer_range": 0.02, "intermediate_size": 6912, "max_position_embeddings": 32768, "model_type": "gemma3_text",
       "num_attention_heads": 4, "num_hidden_layers": 26, "num_key_value_heads": 1, "pad_token_id": 0,
       "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06, "rope_local_base_freq": 10000, "rope_scaling": null,
       "rope_theta": 1000000, "sliding_window": 512, "sliding_window_pattern": 6, "torch_dtype": "bfloat16",
       "use_cache": true, "vocab_size": 262144}""";

  @Test
  void llama32_readsItsLlama3RopeScaling() throws Exception {
    LlamaConfig config = (LlamaConfig) ModelConfig.fromJson(JSON.readTree(LLAMA_3_2));
    assertThat(config.ropeScaling()).isEqualTo(RopeScaling.llama3(32, 1, 4, 8192));
    assertThat(config.headDim()).isEqualTo(64);
    assertThat(config.qkNorm()).isFalse();
    assertThat(ModelConfig.fromJson(config.toJson())).isEqualTo(config);
  }

  @Test
  void transformers5RopeParameters_readAsTheOlderRopeThetaAndRopeScaling() throws Exception {
    ObjectNode llama = (ObjectNode) JSON.readTree(LLAMA_3_2);
    ObjectNode parameters = (ObjectNode) llama.remove("rope_scaling");
    parameters.set("rope_theta", llama.remove("rope_theta"));
    llama.set("rope_parameters", parameters);
    assertThat(ModelConfig.fromJson(llama)).isEqualTo(ModelConfig.fromJson(JSON.readTree(LLAMA_3_2)));

    ObjectNode gemma = (ObjectNode) JSON.readTree(GEMMA3_1B);
    gemma.remove(List.of("rope_theta", "rope_scaling", "rope_local_base_freq"));
    gemma.set("rope_parameters", JSON.readTree("""
        {"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0},
         "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}"""));
    Gemma3Config config = (Gemma3Config) ModelConfig.fromJson(gemma);
    assertThat(config.ropeScaling()).isEqualTo(RopeScaling.linear(8));
    assertThat(List.of(config.ropeTheta(), config.ropeLocalBaseFreq())).containsExactly(1_000_000.0, 10_000.0);
    gemma.set("rope_parameters", JSON.readTree("{\"full_attention\": {\"rope_type\": \"default\"}}"));
    assertThatThrownBy(() -> ModelConfig.fromJson(gemma)).hasMessageContaining("needs a full_attention and a sliding_attention entry");
  }

  @Test
  void llama3Frequencies_keepShortWavelengths_divideLongOnes_andBlendBetween() {
    RopeScaling scaling = RopeScaling.llama3(8, 1, 4, 8192);
    double[] plain = RopeScaling.NONE.inverseFrequencies(500000, 128);
    double[] scaled = scaling.inverseFrequencies(500000, 128);
    assertThat(scaled[0]).isEqualTo(plain[0]);                      // wavelength 2π < 8192/4
    assertThat(scaled[63]).isEqualTo(plain[63] / 8);                // wavelength > 8192
    long blended = IntStream.range(0, 64).filter(i -> scaled[i] < plain[i] && scaled[i] > plain[i] / 8).count();
    assertThat(blended).isPositive();
    assertThat(RopeScaling.linear(4).inverseFrequencies(10000, 8)).containsExactly(
        plain(10000, 8, 0) / 4, plain(10000, 8, 1) / 4, plain(10000, 8, 2) / 4, plain(10000, 8, 3) / 4);
  }

  @Test
  void qwen3_hasQkNormsAndItsOwnHeadDim() throws Exception {
    LlamaConfig config = (LlamaConfig) ModelConfig.fromJson(JSON.readTree(QWEN3));
    assertThat(config.modelType()).isEqualTo("qwen3");
    assertThat(config.qkNorm()).isTrue();
    assertThat(config.headDim()).isEqualTo(128).isNotEqualTo(config.hiddenSize() / config.numAttentionHeads());
    assertThat(config.qkvBias()).isFalse();
    assertThat(config.tieWordEmbeddings()).isTrue();
    assertThat(ModelConfig.fromJson(config.toJson())).isEqualTo(config);
  }

  @Test
  void gemma3_1b_everySixthLayerIsFullAttention() throws Exception {
    Gemma3Config config = (Gemma3Config) ModelConfig.fromJson(JSON.readTree(GEMMA3_1B));
    assertThat(Collections.frequency(config.layerTypes(), Gemma3Config.LayerType.FULL)).isEqualTo(4);
    assertThat(config.layerTypes().get(5)).isEqualTo(Gemma3Config.LayerType.FULL);
    assertThat(config.layerTypes().get(4)).isEqualTo(Gemma3Config.LayerType.SLIDING);
    assertThat(config.slidingWindow()).isEqualTo(512);
    assertThat(config.queryPreAttnScalar()).isEqualTo(256);
    assertThat(config.finalLogitSoftcapping()).isEqualTo(OptionalDouble.empty());
    assertThat(config.tieWordEmbeddings()).isTrue();
    ObjectNode saved = config.toJson();
    assertThat(saved.get("sliding_window_pattern").asInt()).isEqualTo(6);
    assertThat(saved.get("layer_types")).hasSize(26);
    assertThat(ModelConfig.fromJson(saved)).isEqualTo(config);
  }

  @Test
  void gemma3_layerTypesWinOverThePattern_andMustCoverEveryLayer() throws Exception {
    ObjectNode json = (ObjectNode) JSON.readTree(GEMMA3_1B);
    json.put("num_hidden_layers", 3);
    json.putArray("layer_types").add("full_attention").add("sliding_attention").add("full_attention");
    Gemma3Config config = (Gemma3Config) ModelConfig.fromJson(json);
    assertThat(config.layerTypes()).containsExactly(
        Gemma3Config.LayerType.FULL, Gemma3Config.LayerType.SLIDING, Gemma3Config.LayerType.FULL);
    assertThat(config.toJson().has("sliding_window_pattern")).as("no pattern gives these kinds").isFalse();

    json.put("num_hidden_layers", 4);
    assertThatThrownBy(() -> ModelConfig.fromJson(json)).hasMessageContaining("layer_types has 3 entries for 4 num_hidden_layers");
    json.put("num_hidden_layers", 3);
    json.putArray("layer_types").add("chunked_attention").add("sliding_attention").add("full_attention");
    assertThatThrownBy(() -> ModelConfig.fromJson(json)).hasMessageContaining("layer_types entry 'chunked_attention'");
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource(delimiter = '|', value = {
    "LLAMA_3_2 | rope_scaling | {\"rope_type\": \"yarn\", \"factor\": 4.0} | rope_type 'yarn' is not supported",
    "LLAMA_3_2 | rope_scaling | {\"type\": \"dynamic\", \"factor\": 2.0} | rope_type 'dynamic' is not supported",
    "LLAMA_3_2 | rope_scaling | {\"rope_type\": \"linear\", \"factor\": 2.0, \"attention_factor\": 1.5} | rope_scaling field 'attention_factor'",
    "LLAMA_3_2 | rope_scaling | {\"rope_type\": \"llama3\", \"factor\": 8.0} | 'low_freq_factor' must be a number",
    "LLAMA_3_2 | hidden_act | \"gelu\" | hidden_act 'gelu'",
    "QWEN3 | use_sliding_window | true | use_sliding_window true",
    "GEMMA3_1B | attn_logit_softcapping | 50.0 | attn_logit_softcapping 50.0 is not supported",
    "GEMMA3_1B | use_bidirectional_attention | true | use_bidirectional_attention true",
    "GEMMA3_1B | hidden_activation | \"gelu\" | hidden_activation 'gelu'",
    "GEMMA3_1B | rope_scaling | {\"rope_type\": \"longrope\"} | rope_type 'longrope' is not supported",
    "GEMMA3_1B | model_type | \"gemma3\" | only its text model (gemma3_text",
  })
  void unimplementedSettings_areRefusedByName(String model, String field, String value, String message) throws Exception {
    Map<String, String> configs = Map.of("LLAMA_3_2", LLAMA_3_2, "QWEN3", QWEN3, "GEMMA3_1B", GEMMA3_1B);
    ObjectNode json = (ObjectNode) JSON.readTree(configs.get(model));
    json.set(field, JSON.readTree(value));
    assertThatThrownBy(() -> ModelConfig.fromJson(json)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
  }

  @Test
  void gemma3Recipe_writesTheReleasedModelsLayout() {
    ModelRecipe recipe = new ModelRecipe(ModelRecipe.Arch.GEMMA3, 300, 7, 32, 4, 1, 64, 64, true);
    Gemma3Config config = (Gemma3Config) recipe.toConfig();
    assertThat(config.layerTypes()).isEqualTo(Gemma3Config.layerPattern(7, 6));
    assertThat(config.slidingWindow()).isEqualTo(512);
    assertThat(config.queryPreAttnScalar()).isEqualTo(8);
    assertThat(List.of(config.ropeTheta(), config.ropeLocalBaseFreq())).containsExactly(1_000_000.0, 10_000.0);
  }

  private static double plain(double theta, int headDim, int i) {
    return Math.pow(theta, -2.0 * i / headDim);
  }
}
