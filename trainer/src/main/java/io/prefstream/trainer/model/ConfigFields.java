package io.prefstream.trainer.model;

import com.fasterxml.jackson.databind.JsonNode;

/** Typed reads of {@code config.json} fields with messages that name the field. */
final class ConfigFields {

  private ConfigFields() {}

  static int requiredInt(JsonNode json, String field) {
    JsonNode v = json.get(field);
    if (v == null || !v.canConvertToInt() || !v.isIntegralNumber()) {
      throw new IllegalArgumentException("config.json field '" + field + "' must be an integer, got " + v);
    }
    return v.intValue();
  }

  static int optionalInt(JsonNode json, String field, int fallback) {
    JsonNode v = json.get(field);
    return v == null || v.isNull() ? fallback : requiredInt(json, field);
  }

  static double requiredDouble(JsonNode json, String field) {
    JsonNode v = json.get(field);
    if (v == null || !v.isNumber()) {
      throw new IllegalArgumentException("config.json field '" + field + "' must be a number, got " + v);
    }
    return v.doubleValue();
  }

  static double optionalDouble(JsonNode json, String field, double fallback) {
    JsonNode v = json.get(field);
    return v == null || v.isNull() ? fallback : requiredDouble(json, field);
  }

  static boolean optionalBoolean(JsonNode json, String field, boolean fallback) {
    JsonNode v = json.get(field);
    if (v == null || v.isNull()) {
      return fallback;
    }
    if (!v.isBoolean()) {
      throw new IllegalArgumentException("config.json field '" + field + "' must be true or false, got " + v);
    }
    return v.booleanValue();
  }

  static String optionalText(JsonNode json, String field, String fallback) {
    JsonNode v = json.get(field);
    return v == null || v.isNull() ? fallback : v.asText();
  }

  /** The sizes of a decoder with rotary grouped-query attention: all positive, heads grouped evenly, heads of even width. */
  static void rotaryDecoderSizes(int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
      int numAttentionHeads, int numKeyValueHeads, int headDim, int maxPositionEmbeddings) {
    positive("vocab_size", vocabSize);
    positive("hidden_size", hiddenSize);
    positive("intermediate_size", intermediateSize);
    positive("num_hidden_layers", numHiddenLayers);
    positive("num_attention_heads", numAttentionHeads);
    positive("num_key_value_heads", numKeyValueHeads);
    positive("head_dim", headDim);
    positive("max_position_embeddings", maxPositionEmbeddings);
    if (numAttentionHeads % numKeyValueHeads != 0) {
      throw new IllegalArgumentException(
          "num_attention_heads " + numAttentionHeads + " is not a multiple of num_key_value_heads " + numKeyValueHeads);
    }
    if (headDim % 2 != 0) {
      throw new IllegalArgumentException("head_dim " + headDim + " must be even for rotary embeddings");
    }
  }

  static void positive(String field, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(field + " must be > 0, got " + value);
    }
  }
}
