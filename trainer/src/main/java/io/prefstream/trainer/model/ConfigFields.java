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

  static void positive(String field, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(field + " must be > 0, got " + value);
    }
  }
}
