package io.prefstream.trainer.model;

import ai.djl.ndarray.NDManager;
import io.prefstream.trainer.tokenize.ByteLevelTokenizer;
import java.nio.file.Path;

/**
 * A project-made model sized by a few numbers, as {@code prefstream init-model} takes them.
 *
 * @param kvHeads k/v heads for llama (grouped-query attention when fewer than heads); gpt2 needs heads
 * @param intermediate the MLP's hidden width
 */
public record ModelRecipe(
    Arch arch, int vocab, int layers, int hidden, int heads, int kvHeads, int intermediate, int maxPositions, boolean tieEmbeddings) {

  /** The architectures init-model builds. */
  public enum Arch {
    GPT2,
    LLAMA
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
  }

  /** The Hugging Face config this recipe describes; the config checks the sizes fit together. */
  public ModelConfig toConfig() {
    return switch (arch) {
      case GPT2 -> new Gpt2Config(vocab, maxPositions, hidden, layers, heads, intermediate, 1e-5f, tieEmbeddings);
      case LLAMA -> {
        if (hidden % heads != 0) {
          throw new IllegalArgumentException("hidden " + hidden + " is not divisible by heads " + heads);
        }
        yield new LlamaConfig("llama", vocab, hidden, intermediate, layers, heads, kvHeads, hidden / heads, 1e-6f,
            10000.0, maxPositions, tieEmbeddings, false, false, 0);
      }
    };
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
