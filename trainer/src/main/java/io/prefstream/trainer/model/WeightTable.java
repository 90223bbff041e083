package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An architecture's weights by Hugging Face tensor name: the one place where checkpoint names meet
 * block parameters. DJL's own parameter names (ordinal-prefixed) are never used.
 *
 * <p>Loading is strict about what the model needs (every weight present, every shape exact) and
 * lenient about what it does not: names an architecture declares {@linkplain Builder#ignoring
 * ignorable} (buffers such as GPT-2's {@code attn.bias}) are skipped silently, other unknown names
 * are skipped with a warning, as Hugging Face does.
 */
final class WeightTable {

  private static final Logger log = LoggerFactory.getLogger(WeightTable.class);

  /** Standard deviation of the random normal init, as Hugging Face's {@code initializer_range}. */
  static final double INIT_STD = 0.02;

  /** A wrong architecture misses every weight: name a few, count the rest. */
  private static final int MAX_NAMES_SHOWN = 20;

  /** One weight: its checkpoint name, the block parameter it fills, and its shape. */
  record Weight(String name, Parameter parameter, Shape shape) {}

  /** Where a checkpoint's tensors come from: their shapes up front, their values on demand. */
  interface TensorSource {
    /** Tensor shapes by name, as stored. */
    Map<String, Shape> shapes();

    /** Reads one tensor as float32 into {@code manager}. */
    NDArray load(String name, NDManager manager);
  }

  private final Map<String, Weight> weights;
  private final Map<String, Projection> projections;
  private final String fullModelPrefix;
  private final UnaryOperator<String> canonicalName;
  private final Predicate<String> ignorable;

  private WeightTable(Builder b) {
    this.weights = Collections.unmodifiableMap(new LinkedHashMap<>(b.weights));
    this.projections = Collections.unmodifiableMap(new LinkedHashMap<>(b.projections));
    this.fullModelPrefix = b.fullModelPrefix;
    this.canonicalName = b.canonicalName;
    this.ignorable = b.ignorable;
  }

  static Builder builder() {
    return new Builder();
  }

  /** Weights in declaration order. */
  Map<String, Weight> weights() {
    return weights;
  }

  /**
   * The projections by module name (a weight's name without {@code .weight}), in declaration order:
   * where low-rank adapters attach.
   */
  Map<String, Projection> projections() {
    return projections;
  }

  /**
   * What the Hugging Face task model puts before these names in its own module tree
   * ({@code transformer.} for GPT-2's LM head model, nothing for Llama): PEFT names modules by it.
   */
  String fullModelPrefix() {
    return fullModelPrefix;
  }

  /** The live arrays by name, in declaration order. */
  Map<String, NDArray> arrays() {
    Map<String, NDArray> arrays = new LinkedHashMap<>();
    weights.forEach((name, w) -> arrays.put(name, w.parameter().getArray()));
    return Collections.unmodifiableMap(arrays);
  }

  /**
   * Fills every parameter from {@code source}, after checking that all are present with the right
   * shape.
   *
   * @throws IllegalArgumentException naming every missing tensor, or the first mis-shaped one with
   *     its expected and actual shape
   */
  void load(TensorSource source, NDManager manager, String sourceName) {
    Map<String, String> storedNameOf = new LinkedHashMap<>();
    List<String> unknown = new ArrayList<>();
    for (Map.Entry<String, Shape> stored : source.shapes().entrySet()) {
      String name = canonicalName.apply(stored.getKey());
      if (ignorable.test(name)) {
        continue;
      }
      Weight w = weights.get(name);
      if (w == null) {
        unknown.add(stored.getKey());
        continue;
      }
      String previous = storedNameOf.put(name, stored.getKey());
      if (previous != null) {
        throw new IllegalArgumentException(
            sourceName + " holds " + name + " twice, as " + previous + " and as " + stored.getKey());
      }
      if (!stored.getValue().equals(w.shape())) {
        throw new IllegalArgumentException(
            sourceName + ": tensor " + stored.getKey() + " has shape " + stored.getValue() + ", expected " + w.shape()
                + " from config.json");
      }
    }
    List<String> missing = weights.keySet().stream().filter(n -> !storedNameOf.containsKey(n)).toList();
    if (!missing.isEmpty()) {
      List<String> shown = missing.subList(0, Math.min(missing.size(), MAX_NAMES_SHOWN));
      throw new IllegalArgumentException(
          sourceName + " lacks tensor(s) " + shown + (shown.size() < missing.size() ? " and more" : "")
              + " that config.json implies (" + missing.size() + " of " + weights.size() + " missing)");
    }
    if (!unknown.isEmpty()) {
      log.warn("{}: ignoring {} tensor(s) this architecture does not use: {}", sourceName, unknown.size(), unknown);
    }
    storedNameOf.forEach((name, stored) -> weights.get(name).parameter().setArray(source.load(stored, manager)));
  }

  /**
   * Fills every parameter with Hugging Face's default init: weights ~ N(0, 0.02²), biases 0, norm
   * scales 1. Values come from {@link Random} seeded once and drawn in name order, so one seed
   * gives the same numbers on every machine.
   */
  void initialize(long seed, NDManager manager) {
    Random random = new Random(seed);
    for (Weight w : new TreeMap<>(weights).values()) {
      float[] values = new float[Math.toIntExact(w.shape().size())];
      switch (w.parameter().getType()) {
        case WEIGHT -> {
          for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * INIT_STD);
          }
        }
        case GAMMA -> Arrays.fill(values, 1f);
        default -> { } // biases and norm shifts start at 0
      }
      w.parameter().setArray(manager.create(values, w.shape()));
    }
  }

  /** Collects weights in the order an architecture declares them. */
  static final class Builder {
    private final Map<String, Weight> weights = new LinkedHashMap<>();
    private final Map<String, Projection> projections = new LinkedHashMap<>();
    private String fullModelPrefix = "";
    private UnaryOperator<String> canonicalName = UnaryOperator.identity();
    private Predicate<String> ignorable = name -> false;

    Builder add(String name, Parameter parameter, Shape shape) {
      if (weights.put(name, new Weight(name, parameter, shape)) != null) {
        throw new IllegalStateException("weight " + name + " declared twice");
      }
      return this;
    }

    /** Registers a projection under its module name, e.g. {@code model.layers.0.self_attn.q_proj}. */
    Builder addProjection(String module, Projection projection) {
      if (projections.put(module, projection) != null) {
        throw new IllegalStateException("projection " + module + " declared twice");
      }
      return this;
    }

    /** See {@link WeightTable#fullModelPrefix()}. */
    Builder fullModelPrefix(String prefix) {
      this.fullModelPrefix = prefix;
      return this;
    }

    /** How a stored name maps to a declared one (e.g. dropping a prefix some exports add). */
    Builder renaming(UnaryOperator<String> canonicalName) {
      this.canonicalName = canonicalName;
      return this;
    }

    /** Stored tensors that are not weights (buffers, a tied head saved twice), matched after renaming. */
    Builder ignoring(Predicate<String> ignorable) {
      this.ignorable = ignorable;
      return this;
    }

    WeightTable build() {
      return new WeightTable(this);
    }
  }
}
