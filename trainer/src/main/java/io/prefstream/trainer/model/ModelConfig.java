package io.prefstream.trainer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * A model's hyper-parameters, parsed once from a Hugging Face {@code config.json}; each architecture
 * has its own record that checks itself.
 */
public sealed interface ModelConfig permits Gpt2Config, LlamaConfig, Gemma3Config {

  /** Hugging Face's {@code model_type}: gpt2, llama, mistral, qwen2, qwen3 or gemma3_text. */
  String modelType();

  int vocabSize();

  /** The longest sequence the model was built for. */
  int maxPositions();

  /** Whether the output head shares the token embedding matrix. */
  boolean tieWordEmbeddings();

  /** This config as a Hugging Face {@code config.json} object. */
  ObjectNode toJson();

  /** Parses a {@code config.json} object, choosing the architecture by {@code model_type}. */
  static ModelConfig fromJson(JsonNode json) {
    String type = json.path("model_type").asText("");
    return switch (type) {
      case "gpt2" -> Gpt2Config.fromJson(json);
      case "llama", "mistral", "qwen2", "qwen3" -> LlamaConfig.fromJson(json);
      case "gemma3_text" -> Gemma3Config.fromJson(json);
      case "gemma3" -> throw new IllegalArgumentException(
          "config.json: model_type 'gemma3' is Gemma 3's image-text model; only its text model (gemma3_text, as in"
              + " Gemma 3 270M and 1B) is supported");
      default -> throw new IllegalArgumentException(
          "config.json: model_type '" + type + "' is not supported; use gpt2, llama, mistral, qwen2, qwen3 or gemma3_text");
    };
  }

  /** Reads and parses a {@code config.json} file. */
  static ModelConfig read(Path configJson) {
    try {
      return fromJson(new ObjectMapper().readTree(configJson.toFile()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + configJson, e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(configJson + ": " + e.getMessage(), e);
    }
  }
}
