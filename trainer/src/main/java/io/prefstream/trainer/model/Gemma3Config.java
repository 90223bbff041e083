package io.prefstream.trainer.model;

import static io.prefstream.trainer.model.ConfigFields.optionalBoolean;
import static io.prefstream.trainer.model.ConfigFields.optionalDouble;
import static io.prefstream.trainer.model.ConfigFields.optionalInt;
import static io.prefstream.trainer.model.ConfigFields.optionalText;
import static io.prefstream.trainer.model.ConfigFields.positive;
import static io.prefstream.trainer.model.ConfigFields.requiredInt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Hyper-parameters of Gemma 3's text model ({@code model_type: gemma3_text}, Gemma 3 270M and 1B),
 * named as in its config.json.
 *
 * @param headDim per-head width ({@code head_dim}, 256 when absent as Gemma3TextConfig defaults)
 * @param queryPreAttnScalar attention scores are q·k / √query_pre_attn_scalar
 * @param ropeTheta rotary base of the full-attention layers, which also take {@code ropeScaling}
 * @param ropeLocalBaseFreq rotary base of the sliding-window layers, never scaled
 * @param slidingWindow how many keys a sliding-window layer sees, its query's own included
 * @param layerTypes each layer's attention, from {@code layer_types}, else every
 *     {@code sliding_window_pattern}-th layer full and the others sliding
 * @param finalLogitSoftcapping c in logits = c·tanh(logits / c), when set
 */
public record Gemma3Config(
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
    double ropeLocalBaseFreq,
    int maxPositionEmbeddings,
    boolean tieWordEmbeddings,
    boolean attentionBias,
    double queryPreAttnScalar,
    int slidingWindow,
    List<LayerType> layerTypes,
    OptionalDouble finalLogitSoftcapping)
    implements ModelConfig {

  static final String MODEL_TYPE = "gemma3_text";

  /** A layer's attention, by its {@code layer_types} name. */
  public enum LayerType {
    SLIDING("sliding_attention"),
    FULL("full_attention");

    final String configName;

    LayerType(String configName) {
      this.configName = configName;
    }

    static LayerType parse(String name) {
      return Arrays.stream(values()).filter(t -> t.configName.equals(name)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException(
              "layer_types entry '" + name + "' is not supported; use sliding_attention or full_attention"));
    }
  }

  public Gemma3Config {
    ConfigFields.rotaryDecoderSizes(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
        numKeyValueHeads, headDim, maxPositionEmbeddings);
    positive("sliding_window", slidingWindow);
    if (!(rmsNormEps > 0) || !(ropeTheta > 0) || !(ropeLocalBaseFreq > 0) || !(queryPreAttnScalar > 0)) {
      throw new IllegalArgumentException("rms_norm_eps, rope_theta, rope_local_base_freq and query_pre_attn_scalar must be > 0");
    }
    layerTypes = List.copyOf(layerTypes);
    if (layerTypes.size() != numHiddenLayers) {
      throw new IllegalArgumentException(
          "layer_types has " + layerTypes.size() + " entries for " + numHiddenLayers + " num_hidden_layers");
    }
    if (finalLogitSoftcapping.isPresent() && !(finalLogitSoftcapping.getAsDouble() > 0)) {
      throw new IllegalArgumentException("final_logit_softcapping must be > 0, got " + finalLogitSoftcapping.getAsDouble());
    }
  }

  /** Gemma 3's layout: layer i is full attention when (i + 1) is a multiple of {@code pattern}, else sliding. */
  public static List<LayerType> layerPattern(int layers, int pattern) {
    positive("sliding_window_pattern", pattern);
    List<LayerType> types = new ArrayList<>();
    for (int i = 0; i < layers; i++) {
      types.add((i + 1) % pattern == 0 ? LayerType.FULL : LayerType.SLIDING);
    }
    return types;
  }

  static Gemma3Config fromJson(JsonNode json) {
    String activation = optionalText(json, "hidden_activation", "gelu_pytorch_tanh");
    if (!activation.equals(GatedMlp.Activation.GELU_TANH.configName)) {
      throw new IllegalArgumentException("hidden_activation '" + activation + "' is not supported; Gemma 3 uses gelu_pytorch_tanh");
    }
    JsonNode attnSoftcap = json.get("attn_logit_softcapping");
    if (attnSoftcap != null && !attnSoftcap.isNull()) {
      throw new IllegalArgumentException("attn_logit_softcapping " + attnSoftcap + " is not supported (Gemma 3 leaves it null)");
    }
    if (optionalBoolean(json, "use_bidirectional_attention", false)) {
      throw new IllegalArgumentException("use_bidirectional_attention true is not supported; a causal LM attends causally");
    }
    int heads = requiredInt(json, "num_attention_heads");
    int layers = requiredInt(json, "num_hidden_layers");
    double softcap = optionalDouble(json, "final_logit_softcapping", Double.NaN);
    RopeScaling.Rotary global;
    RopeScaling.Rotary local;
    JsonNode parameters = json.get("rope_parameters");
    if (parameters == null || parameters.isNull()) {
      global = RopeScaling.fromConfig(json, 1_000_000.0);
      local = new RopeScaling.Rotary(optionalDouble(json, "rope_local_base_freq", 10_000.0), RopeScaling.NONE);
    } else { // transformers 5: one entry per layer kind
      if (!parameters.has(LayerType.FULL.configName) || !parameters.has(LayerType.SLIDING.configName)) {
        throw new IllegalArgumentException("rope_parameters needs a full_attention and a sliding_attention entry, got " + parameters);
      }
      global = RopeScaling.fromParameters(parameters.get(LayerType.FULL.configName), 1_000_000.0);
      local = RopeScaling.fromParameters(parameters.get(LayerType.SLIDING.configName), 10_000.0);
      if (local.scaling().type() != RopeScaling.Type.DEFAULT) {
        throw new IllegalArgumentException("rope_parameters sliding_attention: a scaled local rope is not supported");
      }
    }
    return new Gemma3Config(
        requiredInt(json, "vocab_size"),
        requiredInt(json, "hidden_size"),
        requiredInt(json, "intermediate_size"),
        layers,
        heads,
        optionalInt(json, "num_key_value_heads", heads),
        optionalInt(json, "head_dim", 256),
        (float) optionalDouble(json, "rms_norm_eps", 1e-6),
        global.theta(),
        global.scaling(),
        local.theta(),
        requiredInt(json, "max_position_embeddings"),
        optionalBoolean(json, "tie_word_embeddings", true),
        optionalBoolean(json, "attention_bias", false),
        optionalDouble(json, "query_pre_attn_scalar", 256),
        optionalInt(json, "sliding_window", 4096),
        layerTypes(json, layers),
        Double.isNaN(softcap) ? OptionalDouble.empty() : OptionalDouble.of(softcap));
  }

  private static List<LayerType> layerTypes(JsonNode json, int layers) {
    JsonNode types = json.get("layer_types");
    if (types == null || types.isNull()) {
      // transformers reads sliding_window_pattern, older exports and its newer config class _sliding_window_pattern
      int pattern = optionalInt(json, "sliding_window_pattern", optionalInt(json, "_sliding_window_pattern", 6));
      return layerPattern(layers, pattern);
    }
    if (!types.isArray()) {
      throw new IllegalArgumentException("layer_types must be a list, got " + types);
    }
    List<LayerType> parsed = new ArrayList<>();
    types.forEach(t -> parsed.add(LayerType.parse(t.asText())));
    return parsed;
  }

  /** The attention of every layer: per-head q/k norms with Gemma's (1 + w) gain, scores scaled by 1/√query_pre_attn_scalar. */
  GroupedQueryAttention.Spec attention() {
    return new GroupedQueryAttention.Spec(hiddenSize, numAttentionHeads, numKeyValueHeads, headDim, attentionBias,
        attentionBias, Optional.of(RmsNorm.Gain.ONE_PLUS_WEIGHT), rmsNormEps, 1 / Math.sqrt(queryPreAttnScalar));
  }

  @Override
  public String modelType() {
    return MODEL_TYPE;
  }

  @Override
  public int maxPositions() {
    return maxPositionEmbeddings;
  }

  @Override
  public ObjectNode toJson() {
    ObjectNode json = new ObjectMapper().createObjectNode();
    json.put("model_type", MODEL_TYPE);
    json.putArray("architectures").add("Gemma3ForCausalLM");
    json.put("vocab_size", vocabSize);
    json.put("hidden_size", hiddenSize);
    json.put("intermediate_size", intermediateSize);
    json.put("num_hidden_layers", numHiddenLayers);
    json.put("num_attention_heads", numAttentionHeads);
    json.put("num_key_value_heads", numKeyValueHeads);
    json.put("head_dim", headDim);
    json.put("rms_norm_eps", rmsNormEps);
    json.put("rope_theta", ropeTheta);
    json.set("rope_scaling", ropeScaling.toJson().orElse(null));
    json.put("rope_local_base_freq", ropeLocalBaseFreq);
    json.put("max_position_embeddings", maxPositionEmbeddings);
    json.put("tie_word_embeddings", tieWordEmbeddings);
    json.put("attention_bias", attentionBias);
    json.put("query_pre_attn_scalar", queryPreAttnScalar);
    json.put("sliding_window", slidingWindow);
    ArrayNode types = json.putArray("layer_types");
    layerTypes.forEach(t -> types.add(t.configName));
    // transformers before 4.53 reads the pattern, not layer_types
    patternOf(layerTypes).ifPresent(pattern -> json.put("sliding_window_pattern", pattern));
    json.put("hidden_activation", GatedMlp.Activation.GELU_TANH.configName);
    json.set("final_logit_softcapping", finalLogitSoftcapping.isPresent()
        ? json.numberNode(finalLogitSoftcapping.getAsDouble())
        : null);
    json.putNull("attn_logit_softcapping");
    json.put("torch_dtype", "float32");
    return json;
  }

  private static Optional<Integer> patternOf(List<LayerType> types) {
    int firstFull = types.indexOf(LayerType.FULL);
    int pattern = firstFull < 0 ? types.size() + 1 : firstFull + 1;
    return layerPattern(types.size(), pattern).equals(types) ? Optional.of(pattern) : Optional.empty();
  }
}
