package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.OptionalDouble;
import java.util.Random;

/** Small configs and helpers shared by the model tests. */
final class TinyModels {

  private static NDManager manager;

  private TinyModels() {}

  static Gpt2Config gpt2(boolean tied) {
    return new Gpt2Config(40, 16, 16, 2, 2, 48, 1e-5f, tied);
  }

  /** 4 query heads of width 4 over {@code kvHeads} k/v heads, hidden 16. */
  static LlamaConfig llama(String type, int kvHeads, boolean tied, boolean attentionBias) {
    boolean qwen2 = type.equals("qwen2");
    return new LlamaConfig(type, 40, 16, 24, 2, 4, kvHeads, 4, 1e-6f, 10000.0, RopeScaling.NONE, 16, tied,
        qwen2 || attentionBias, !qwen2 && attentionBias, type.equals("mistral") ? 16 : 0);
  }

  /** {@link #llama} with Llama 3.1's rope scaling over 8 original positions: each frequency band occurs at head width 4. */
  static LlamaConfig llama3(int kvHeads, boolean tied) {
    return new LlamaConfig("llama", 40, 16, 24, 2, 4, kvHeads, 4, 1e-6f, 10000.0, RopeScaling.llama3(8, 1, 4, 8), 16, tied,
        false, false, 0);
  }

  /** Qwen3: 4 query heads of width 6 (not hidden / heads) over {@code kvHeads} k/v heads, hidden 16. */
  static LlamaConfig qwen3(int kvHeads, boolean tied) {
    return new LlamaConfig("qwen3", 40, 16, 24, 2, 4, kvHeads, 6, 1e-6f, 1_000_000.0, RopeScaling.NONE, 16, tied,
        false, false, 0);
  }

  /**
   * Gemma 3: 3 layers (sliding, full, sliding) with a window of 3 keys, 4 query heads of width 6
   * over {@code kvHeads} k/v heads, hidden 16, linear rope scaling on the full layer, a soft cap.
   */
  static Gemma3Config gemma3(int kvHeads, boolean tied) {
    return new Gemma3Config(40, 16, 24, 3, 4, kvHeads, 6, 1e-6f, 1_000_000.0, RopeScaling.linear(2), 10_000.0, 16, tied,
        false, 10, 3, Gemma3Config.layerPattern(3, 2), OptionalDouble.of(8));
  }

  /**
   * A random model with large weights: N(0, 0.4²), biases too, norm scales 1 + N(0, 0.2²). The
   * default init (std 0.02, biases 0) makes attention nearly uniform and would hide position and
   * bias mistakes below any tolerance.
   */
  static CausalLm random(ModelConfig config, long seed) {
    CausalLm model = ModelFolder.random(config, seed, manager());
    Random random = new Random(seed);
    for (var p : model.parameters().entrySet()) {
      boolean normScale = p.getValue().getShape().dimension() == 1 && p.getKey().endsWith(".weight");
      float[] values = new float[(int) p.getValue().size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = normScale ? 1 + (float) random.nextGaussian() * 0.2f : (float) random.nextGaussian() * 0.4f;
      }
      p.getValue().set(values);
    }
    return model;
  }

  /** One manager for every test in the JVM: the engine starts once. */
  static synchronized NDManager manager() {
    if (manager == null) {
      manager = NDManager.newBaseManager();
    }
    return manager;
  }

  static NDArray ids(NDManager m, long[][] rows) {
    int t = rows[0].length;
    long[] flat = new long[rows.length * t];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, flat, i * t, t);
    }
    return m.create(flat, new Shape(rows.length, t));
  }
}
