package io.prefstream.trainer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * A config.json {@code rope_scaling}: how rotary frequencies are stretched for contexts longer than
 * pre-training saw, as Hugging Face's {@code modeling_rope_utils} computes them.
 *
 * <ul>
 *   <li>{@code default}: θ^(-2i/d), unchanged.
 *   <li>{@code linear} (position interpolation, Chen et al. 2023, arXiv:2306.15595): every frequency
 *       divided by {@code factor}.
 *   <li>{@code llama3} (Llama 3.1): wavelengths 2π/f shorter than L/high_freq_factor keep their
 *       frequency, those longer than L/low_freq_factor are divided by {@code factor}, and between
 *       the two the frequency blends linearly in L/λ, L = original_max_position_embeddings.
 * </ul>
 *
 * <p>Neither type scales cos and sin (attention factor 1). Other types (yarn, dynamic, longrope)
 * are refused by name.
 */
public record RopeScaling(Type type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {

  /** The rope types implemented, by their config.json name. */
  public enum Type {
    DEFAULT,
    LINEAR,
    LLAMA3;

    String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Plain rotary embeddings. */
  public static final RopeScaling NONE = new RopeScaling(Type.DEFAULT, 1, 0, 0, 0);

  private static final Set<String> FIELDS = Set.of(
      "rope_type", "type", "factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings");

  public RopeScaling {
    if (type != Type.DEFAULT && !(factor >= 1)) {
      throw new IllegalArgumentException("rope_scaling factor must be >= 1, got " + factor);
    }
    if (type == Type.LLAMA3) {
      if (!(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor)) {
        throw new IllegalArgumentException("rope_scaling llama3 needs 0 < low_freq_factor < high_freq_factor, got "
            + lowFreqFactor + " and " + highFreqFactor);
      }
      ConfigFields.positive("rope_scaling original_max_position_embeddings", originalMaxPositions);
    }
  }

  /** A rotary base θ and its scaling. */
  record Rotary(double theta, RopeScaling scaling) {}

  /**
   * The rotary settings of a config.json: transformers 4's {@code rope_theta} and {@code rope_scaling},
   * or transformers 5's {@code rope_parameters} ({@code rope_type}, {@code rope_theta} and the
   * type's fields in one object).
   */
  static Rotary fromConfig(JsonNode config, double defaultTheta) {
    JsonNode parameters = config.get("rope_parameters");
    return parameters == null || parameters.isNull()
        ? new Rotary(ConfigFields.optionalDouble(config, "rope_theta", defaultTheta), fromJson(config.get("rope_scaling")))
        : fromParameters(parameters, defaultTheta);
  }

  /** One {@code rope_parameters} object: θ and the scaling fields together. */
  static Rotary fromParameters(JsonNode parameters, double defaultTheta) {
    if (!parameters.isObject()) {
      throw new IllegalArgumentException("rope_parameters must be an object, got " + parameters);
    }
    ObjectNode scaling = parameters.deepCopy();
    scaling.remove("rope_theta");
    return new Rotary(ConfigFields.optionalDouble(parameters, "rope_theta", defaultTheta), fromJson(scaling));
  }

  /** Linear position interpolation by {@code factor}. */
  public static RopeScaling linear(double factor) {
    return new RopeScaling(Type.LINEAR, factor, 0, 0, 0);
  }

  /** Llama 3.1's frequency-dependent scaling. */
  public static RopeScaling llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
    return new RopeScaling(Type.LLAMA3, factor, lowFreqFactor, highFreqFactor, originalMaxPositions);
  }

  /**
   * Parses a {@code rope_scaling} value (absent or null: {@link #NONE}).
   *
   * @throws IllegalArgumentException naming an unsupported rope type or a field the type does not use
   */
  static RopeScaling fromJson(JsonNode json) {
    if (json == null || json.isNull()) {
      return NONE;
    }
    if (!json.isObject()) {
      throw new IllegalArgumentException("rope_scaling must be an object, got " + json);
    }
    String name = json.path("rope_type").asText(json.path("type").asText("default")); // "type" is the older spelling
    Type type = Arrays.stream(Type.values()).filter(t -> t.configName().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException(
            "rope_scaling rope_type '" + name + "' is not supported; use default, linear or llama3"));
    Set<String> used = switch (type) {
      case DEFAULT -> Set.of("rope_type", "type");
      case LINEAR -> Set.of("rope_type", "type", "factor");
      case LLAMA3 -> FIELDS;
    };
    json.fieldNames().forEachRemaining(field -> {
      if (!used.contains(field)) {
        throw new IllegalArgumentException("rope_scaling field '" + field + "' is not supported with rope_type " + name);
      }
    });
    return switch (type) {
      case DEFAULT -> NONE;
      case LINEAR -> linear(ConfigFields.requiredDouble(json, "factor"));
      case LLAMA3 -> llama3(
          ConfigFields.requiredDouble(json, "factor"),
          ConfigFields.requiredDouble(json, "low_freq_factor"),
          ConfigFields.requiredDouble(json, "high_freq_factor"),
          ConfigFields.requiredInt(json, "original_max_position_embeddings"));
    };
  }

  /** This scaling as a config.json {@code rope_scaling} value; empty for plain rotary embeddings. */
  Optional<ObjectNode> toJson() {
    if (type == Type.DEFAULT) {
      return Optional.empty();
    }
    ObjectNode json = new ObjectMapper().createObjectNode();
    json.put("rope_type", type.configName());
    json.put("factor", factor);
    if (type == Type.LLAMA3) {
      json.put("low_freq_factor", lowFreqFactor);
      json.put("high_freq_factor", highFreqFactor);
      json.put("original_max_position_embeddings", originalMaxPositions);
    }
    return Optional.of(json);
  }

  /** The rotary frequencies of one head of width {@code headDim}: θ^(-2i/headDim), i = 0..headDim/2-1, scaled. */
  double[] inverseFrequencies(double theta, int headDim) {
    double[] frequencies = new double[headDim / 2];
    for (int i = 0; i < frequencies.length; i++) {
      frequencies[i] = scaled(Math.pow(theta, -2.0 * i / headDim));
    }
    return frequencies;
  }

  private double scaled(double frequency) {
    return switch (type) {
      case DEFAULT -> frequency;
      case LINEAR -> frequency / factor;
      case LLAMA3 -> {
        double wavelength = 2 * Math.PI / frequency;
        if (wavelength < originalMaxPositions / highFreqFactor) {
          yield frequency;
        }
        if (wavelength > originalMaxPositions / lowFreqFactor) {
          yield frequency / factor;
        }
        double smooth = (originalMaxPositions / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        yield (1 - smooth) * frequency / factor + smooth * frequency;
      }
    };
  }
}
