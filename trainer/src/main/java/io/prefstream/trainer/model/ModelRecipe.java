package io.prefstream.trainer.model;

import ai.djl.ndarray.NDManager;
import io.prefstream.trainer.tokenize.ByteLevelTokenizer;
import java.nio.file.Path;
import java.util.Locale;
import java.util.OptionalDouble;

/**
 * A project-made model sized by a few numbers, as {@code prefstream init-model} takes them. Heads
 * are hidden / heads wide; the rest follows each family's released models: rope_theta 10⁴ for
 * llama, 10⁶ for qwen3, 10⁶ (full layers) and 10⁴ (sliding layers) for gemma3, whose
 * query_pre_attn_scalar is the head width.
 *
 * @param kvHeads k/v heads (grouped-query attention when fewer than heads); gpt2 needs heads
 * @param intermediate the MLP's hidden width
 * @param ropeScaling llama's and gemma3's (full layers) rotary scaling; qwen3 and gpt2 take none here
 * @param slidingWindow gemma3: the keys a sliding-window layer sees
 * @param slidingWindowPattern gemma3: every this-many-th layer is a full-attention layer
 */
public record ModelRecipe(
    Arch arch, int vocab, int layers, int hidden, int heads, int kvHeads, int intermediate, int maxPositions, boolean tieEmbeddings,
    RopeScaling ropeScaling, int slidingWindow, int slidingWindowPattern) {

  /** The architectures init-model builds. */
  public enum Arch {
    GPT2,
    LLAMA,
    QWEN3,
    GEMMA3
  }

  /** Gemma 3 270M's and 1B's window and pattern. */
  public static final int GEMMA3_SLIDING_WINDOW = 512;

  public static final int GEMMA3_SLIDING_WINDOW_PATTERN = 6;

  /** A recipe with plain rotary embeddings and Gemma 3's own window and pattern. */
  public ModelRecipe(
      Arch arch, int vocab, int layers, int hidden, int heads, int kvHeads, int intermediate, int maxPositions, boolean tieEmbeddings) {
    this(arch, vocab, layers, hidden, heads, kvHeads, intermediate, maxPositions, tieEmbeddings, RopeScaling.NONE,
        GEMMA3_SLIDING_WINDOW, GEMMA3_SLIDING_WINDOW_PATTERN);
  }

  public ModelRecipe {
    if (vocab < ByteLevelTokenizer.VOCAB_SIZE) {
      throw new IllegalArgumentException(
          "vocab " + vocab + " is too small: a project-made model uses the byte-level tokenizer, 256 byte tokens + EOS, so"
              + " vocab must be >= " + ByteLevelTokenizer.VOCAB_SIZE);
    }
    if (arch == Arch.GPT2 && kvHeads != heads) {
      throw new IllegalArgumentException("gpt2 has no grouped-query attention: kv-heads must equal heads (" + heads + ")");
    }
    if ((arch == Arch.GPT2 || arch == Arch.QWEN3) && ropeScaling.type() != RopeScaling.Type.DEFAULT) {
      throw new IllegalArgumentException("rope scaling applies to llama and gemma3, not " + arch.name().toLowerCase(Locale.ROOT));
    }
  }

  /** The Hugging Face config this recipe describes; the config checks the sizes fit together. */
  public ModelConfig toConfig() {
    return switch (arch) {
      case GPT2 -> new Gpt2Config(vocab, maxPositions, hidden, layers, heads, intermediate, 1e-5f, tieEmbeddings);
      case LLAMA -> new LlamaConfig("llama", vocab, hidden, intermediate, layers, heads, kvHeads, headDim(), 1e-6f,
          10_000.0, ropeScaling, maxPositions, tieEmbeddings, false, false, 0);
      case QWEN3 -> new LlamaConfig("qwen3", vocab, hidden, intermediate, layers, heads, kvHeads, headDim(), 1e-6f,
          1_000_000.0, RopeScaling.NONE, maxPositions, tieEmbeddings, false, false, 0);
      case GEMMA3 -> new Gemma3Config(vocab, hidden, intermediate, layers, heads, kvHeads, headDim(), 1e-6f,
          1_000_000.0, ropeScaling, 10_000.0, maxPositions, tieEmbeddings, false, headDim(), slidingWindow,
          Gemma3Config.layerPattern(layers, slidingWindowPattern), OptionalDouble.empty());
    };
  }

  private int headDim() {
    if (hidden % heads != 0) {
      throw new IllegalArgumentException("hidden " + hidden + " is not divisible by heads " + heads);
    }
    return hidden / heads;
  }

  /**
   * Writes a seeded random model folder: config.json, model.safetensors (Hugging Face's default init,
   * see {@link ModelFolder#random}) and the byte-level tokenizer. One seed gives identical bytes.
   *
   * @return the number of parameters written
   */
  public long writeRandom(long seed, Path dir) {
    ModelConfig config = toConfig();
    long parameters = 0;
    try (NDManager manager = NDManager.newBaseManager(); CausalLm model = ModelFolder.random(config, seed, manager)) {
      ModelFolder.save(model, dir);
      for (var array : model.parameters().values()) {
        parameters += array.size();
      }
    }
    ByteLevelTokenizer.writeTo(dir, config.maxPositions());
    return parameters;
  }
}
