package io.prefstream.trainer.model;

import static io.prefstream.trainer.model.ConfigFields.optionalBoolean;
import static io.prefstream.trainer.model.ConfigFields.optionalDouble;
import static io.prefstream.trainer.model.ConfigFields.optionalInt;
import static io.prefstream.trainer.model.ConfigFields.optionalText;
import static io.prefstream.trainer.model.ConfigFields.positive;
import static io.prefstream.trainer.model.ConfigFields.requiredInt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;

/**
 * GPT-2 hyper-parameters, named as in the checkpoint's config.json.
 *
 * @param nInner the MLP's hidden width (config {@code n_inner}, 4·n_embd when null)
 * @param tieWordEmbeddings GPT-2 ties its head to {@code wte}; false reads a separate {@code lm_head.weight}
 */
public record Gpt2Config(
    int vocabSize, int nPositions, int nEmbd, int nLayer, int nHead, int nInner, float layerNormEps, boolean tieWordEmbeddings)
    implements ModelConfig {

  /** The tanh approximation of GELU, under both of Hugging Face's names for it. */
  private static final Set<String> GELU_TANH = Set.of("gelu_new", "gelu_pytorch_tanh");

  public Gpt2Config {
    positive("vocab_size", vocabSize);
    positive("n_positions", nPositions);
    positive("n_embd", nEmbd);
    positive("n_layer", nLayer);
    positive("n_head", nHead);
    positive("n_inner", nInner);
    if (nEmbd % nHead != 0) {
      throw new IllegalArgumentException("n_embd " + nEmbd + " is not divisible by n_head " + nHead);
    }
    if (!(layerNormEps > 0)) {
      throw new IllegalArgumentException("layer_norm_epsilon must be > 0, got " + layerNormEps);
    }
  }

  static Gpt2Config fromJson(JsonNode json) {
    String activation = optionalText(json, "activation_function", "gelu_new");
    if (!GELU_TANH.contains(activation)) {
      throw new IllegalArgumentException(
          "activation_function '" + activation + "' is not supported for gpt2; use gelu_new");
    }
    int nEmbd = requiredInt(json, "n_embd");
    return new Gpt2Config(
        requiredInt(json, "vocab_size"),
        requiredInt(json, "n_positions"),
        nEmbd,
        requiredInt(json, "n_layer"),
        requiredInt(json, "n_head"),
        optionalInt(json, "n_inner", 4 * nEmbd),
        (float) optionalDouble(json, "layer_norm_epsilon", 1e-5),
        optionalBoolean(json, "tie_word_embeddings", true));
  }

  @Override
  public String modelType() {
    return "gpt2";
  }

  @Override
  public int maxPositions() {
    return nPositions;
  }

  @Override
  public ObjectNode toJson() {
    ObjectNode json = new ObjectMapper().createObjectNode();
    json.put("model_type", "gpt2");
    json.putArray("architectures").add("GPT2LMHeadModel");
    json.put("vocab_size", vocabSize);
    json.put("n_positions", nPositions);
    json.put("n_ctx", nPositions);
    json.put("n_embd", nEmbd);
    json.put("n_layer", nLayer);
    json.put("n_head", nHead);
    json.put("n_inner", nInner);
    json.put("layer_norm_epsilon", layerNormEps);
    json.put("activation_function", "gelu_new");
    json.put("tie_word_embeddings", tieWordEmbeddings);
    json.put("torch_dtype", "float32");
    return json;
  }
}
