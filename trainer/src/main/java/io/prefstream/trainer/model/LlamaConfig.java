package io.prefstream.trainer.model;

import static io.prefstream.trainer.model.ConfigFields.optionalBoolean;
import static io.prefstream.trainer.model.ConfigFields.optionalDouble;
import static io.prefstream.trainer.model.ConfigFields.optionalInt;
import static io.prefstream.trainer.model.ConfigFields.optionalText;
import static io.prefstream.trainer.model.ConfigFields.requiredInt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.Optional;

/**
 * Hyper-parameters of the Llama family, named as in the checkpoint's config.json. Mistral, Qwen2 and
 * Qwen3 are the same network: Qwen2 adds biases to q/k/v, Mistral a sliding attention window, Qwen3
 * an RMSNorm on each head's q and k.
 *
 * @param modelType llama, mistral, qwen2 or qwen3
 * @param headDim per-head width (config {@code head_dim}; when absent hidden_size / num_attention_heads,
 *     or 128 for qwen3 as its config class defaults)
 * @param ropeScaling {@code rope_scaling}: Llama 3.x's {@code llama3} or {@code linear}, else none
 * @param qkvBias whether q_proj, k_proj and v_proj have biases (Qwen2 always; Llama's {@code attention_bias})
 * @param oBias whether o_proj has a bias (Llama's {@code attention_bias}; never in Qwen2)
 * @param slidingWindow Mistral's attention window, 0 when none. Only sequences that fit in it are
 *     accepted, where sliding-window and full causal attention are the same thing.
 */
public record LlamaConfig(
    String modelType,
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int numHiddenLayers,
    int numAttentionHeads,
    int numKeyValueHeads,
    int headDim,
    float rmsNormEps,
    double ropeTheta,
    RopeScaling ropeScaling,
    int maxPositionEmbeddings,
    boolean tieWordEmbeddings,
    boolean qkvBias,
    boolean oBias,
    int slidingWindow)
    implements ModelConfig {

  private static final Map<String, String> ARCHITECTURE = Map.of(
      "llama", "LlamaForCausalLM", "mistral", "MistralForCausalLM", "qwen2", "Qwen2ForCausalLM", "qwen3", "Qwen3ForCausalLM");

  public LlamaConfig {
    if (!ARCHITECTURE.containsKey(modelType)) {
      throw new IllegalArgumentException("model_type " + modelType + " is not in the Llama family " + ARCHITECTURE.keySet());
    }
    ConfigFields.rotaryDecoderSizes(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
        numKeyValueHeads, headDim, maxPositionEmbeddings);
    if (!(rmsNormEps > 0) || !(ropeTheta > 0)) {
      throw new IllegalArgumentException("rms_norm_eps and rope_theta must be > 0, got " + rmsNormEps + " and " + ropeTheta);
    }
    if (modelType.equals("qwen2") ? !qkvBias || oBias : qkvBias != oBias) {
      throw new IllegalArgumentException(modelType.equals("qwen2")
          ? "qwen2 has biases on q/k/v and none on o_proj"
          : modelType + " has one attention_bias flag for q/k/v/o, got qkv=" + qkvBias + " o=" + oBias);
    }
    if (slidingWindow < 0) {
      throw new IllegalArgumentException("sliding_window must be >= 0, got " + slidingWindow);
    }
  }

  static LlamaConfig fromJson(JsonNode json) {
    String type = json.path("model_type").asText();
    String activation = optionalText(json, "hidden_act", "silu");
    if (!activation.equals("silu")) {
      throw new IllegalArgumentException("hidden_act '" + activation + "' is not supported; the Llama family uses silu");
    }
    if (optionalBoolean(json, "mlp_bias", false)) {
      throw new IllegalArgumentException("mlp_bias true is not supported");
    }
    if (optionalBoolean(json, "use_sliding_window", false)) {
      throw new IllegalArgumentException("use_sliding_window true is not supported for " + type + "; only full attention is");
    }
    int hidden = requiredInt(json, "hidden_size");
    int heads = requiredInt(json, "num_attention_heads");
    boolean attentionBias = optionalBoolean(json, "attention_bias", false);
    boolean qwen2 = type.equals("qwen2");
    RopeScaling.Rotary rotary = RopeScaling.fromConfig(json, 10000.0);
    return new LlamaConfig(
        type,
        requiredInt(json, "vocab_size"),
        hidden,
        requiredInt(json, "intermediate_size"),
        requiredInt(json, "num_hidden_layers"),
        heads,
        optionalInt(json, "num_key_value_heads", heads),
        optionalInt(json, "head_dim", type.equals("qwen3") ? 128 : hidden / heads),
        (float) optionalDouble(json, "rms_norm_eps", 1e-6),
        rotary.theta(),
        rotary.scaling(),
        requiredInt(json, "max_position_embeddings"),
        optionalBoolean(json, "tie_word_embeddings", false),
        qwen2 || attentionBias,
        !qwen2 && attentionBias,
        type.equals("mistral") ? optionalInt(json, "sliding_window", 0) : 0);
  }

  /** Qwen3 normalizes each head's q and k. */
  public boolean qkNorm() {
    return modelType.equals("qwen3");
  }

  GroupedQueryAttention.Spec attention() {
    return new GroupedQueryAttention.Spec(hiddenSize, numAttentionHeads, numKeyValueHeads, headDim, qkvBias, oBias,
        qkNorm() ? Optional.of(RmsNorm.Gain.WEIGHT) : Optional.empty(), rmsNormEps, 1 / Math.sqrt(headDim));
  }

  @Override
  public int maxPositions() {
    return maxPositionEmbeddings;
  }

  @Override
  public ObjectNode toJson() {
    ObjectNode json = new ObjectMapper().createObjectNode();
    json.put("model_type", modelType);
    json.putArray("architectures").add(ARCHITECTURE.get(modelType));
    json.put("vocab_size", vocabSize);
    json.put("hidden_size", hiddenSize);
    json.put("intermediate_size", intermediateSize);
    json.put("num_hidden_layers", numHiddenLayers);
    json.put("num_attention_heads", numAttentionHeads);
    json.put("num_key_value_heads", numKeyValueHeads);
    json.put("head_dim", headDim);
    json.put("rms_norm_eps", rmsNormEps);
    json.put("rope_theta", ropeTheta);
    ropeScaling.toJson().ifPresent(scaling -> json.set("rope_scaling", scaling));
    json.put("max_position_embeddings", maxPositionEmbeddings);
    json.put("tie_word_embeddings", tieWordEmbeddings);
    json.put("hidden_act", "silu");
    if (!modelType.equals("qwen2")) { // Qwen2's q/k/v biases are fixed by the architecture
      json.put("attention_bias", qkvBias);
    }
    if (slidingWindow > 0) {
      json.put("sliding_window", slidingWindow);
    }
    json.put("torch_dtype", "float32");
    return json;
  }
}
