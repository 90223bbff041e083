package io.prefstream.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.prefstream.trainer.model.ModelRecipe;
import io.prefstream.trainer.model.RopeScaling;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code prefstream init-model}: writes a seeded random model folder that the trainer and Hugging Face load. */
@Command(
    name = "init-model",
    mixinStandardHelpOptions = true,
    description = {
      "Writes a seeded random model as a Hugging Face folder: config.json, model.safetensors (float32;"
          + " weights ~ N(0, 0.02^2), biases 0, norm gains 1, which Gemma stores as 0) and a byte-level tokenizer.json"
          + " (ids 0-255 are UTF-8 bytes, 256 is <|endoftext|>). The same options and seed give identical bytes.",
      "Prints the folder and its parameter count as one JSON line."
    })
public final class InitModelCommand implements Callable<Integer> {

  /** The rope scalings init-model writes. */
  enum RopeKind {
    NONE,
    LINEAR,
    LLAMA3
  }

  @Option(names = "--arch", required = true, description = "gpt2, llama, qwen3 or gemma3.")
  ModelRecipe.Arch arch;

  @Option(names = "--vocab", required = true, description = "Vocabulary size, >= 257 (256 bytes + EOS).")
  int vocab;

  @Option(names = "--layers", required = true, description = "Transformer layers.")
  int layers;

  @Option(names = "--hidden", required = true, description = "Hidden width; divisible by --heads.")
  int hidden;

  @Option(names = "--heads", required = true, description = "Attention heads.")
  int heads;

  @Option(names = "--kv-heads", description = "llama, qwen3, gemma3: key/value heads, dividing --heads (default: --heads).")
  Integer kvHeads;

  @Option(names = "--intermediate", description = "MLP width (default: 4 x --hidden).")
  Integer intermediate;

  @Option(names = "--max-positions", defaultValue = "512", description = "Longest sequence (default: ${DEFAULT-VALUE}).")
  int maxPositions;

  @Option(names = "--rope-scaling", defaultValue = "none",
      description = "llama, gemma3 (full-attention layers): none, linear or llama3 (Llama 3.1's rope_scaling; default: ${DEFAULT-VALUE}).")
  RopeKind ropeScaling;

  @Option(names = "--rope-factor", defaultValue = "8", description = "linear, llama3: the scaling factor (default: ${DEFAULT-VALUE}).")
  double ropeFactor;

  @Option(names = "--rope-low-freq-factor", defaultValue = "1", description = "llama3: low_freq_factor (default: ${DEFAULT-VALUE}).")
  double ropeLowFreqFactor;

  @Option(names = "--rope-high-freq-factor", defaultValue = "4", description = "llama3: high_freq_factor (default: ${DEFAULT-VALUE}).")
  double ropeHighFreqFactor;

  @Option(names = "--rope-original-max-positions", defaultValue = "8192",
      description = "llama3: original_max_position_embeddings (default: ${DEFAULT-VALUE}).")
  int ropeOriginalMaxPositions;

  @Option(names = "--sliding-window", defaultValue = "" + ModelRecipe.GEMMA3_SLIDING_WINDOW,
      description = "gemma3: keys a sliding-window layer sees (default: ${DEFAULT-VALUE}).")
  int slidingWindow;

  @Option(names = "--sliding-window-pattern", defaultValue = "" + ModelRecipe.GEMMA3_SLIDING_WINDOW_PATTERN,
      description = "gemma3: every this-many-th layer has full attention, the others a sliding window (default: ${DEFAULT-VALUE}).")
  int slidingWindowPattern;

  @Option(names = "--seed", defaultValue = "0", description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--tie-embeddings", defaultValue = "true", arity = "1",
      description = "Share the token embedding with the output head (default: ${DEFAULT-VALUE}).")
  boolean tieEmbeddings;

  @Option(names = "--out", required = true, description = "Folder to write; created if absent.")
  Path out;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    ModelRecipe recipe;
    try {
      recipe = new ModelRecipe(arch, vocab, layers, hidden, heads, kvHeads == null ? heads : kvHeads,
          intermediate == null ? 4 * hidden : intermediate, maxPositions, tieEmbeddings, ropeScaling(), slidingWindow,
          slidingWindowPattern);
      recipe.toConfig();
    } catch (IllegalArgumentException e) { // sizes that do not fit together: a usage error, not a crash
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    long parameters = recipe.writeRandom(seed, out);
    System.out.println(new ObjectMapper().createObjectNode()
        .put("out", out.toAbsolutePath().toString())
        .put("model_type", recipe.toConfig().modelType())
        .put("parameters", parameters));
    return 0;
  }

  private RopeScaling ropeScaling() {
    return switch (ropeScaling) {
      case NONE -> RopeScaling.NONE;
      case LINEAR -> RopeScaling.linear(ropeFactor);
      case LLAMA3 -> RopeScaling.llama3(ropeFactor, ropeLowFreqFactor, ropeHighFreqFactor, ropeOriginalMaxPositions);
    };
  }
}
