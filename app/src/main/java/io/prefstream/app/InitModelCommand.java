package io.prefstream.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.prefstream.trainer.model.ModelRecipe;
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
          + " weights ~ N(0, 0.02^2), biases 0, norm scales 1) and a byte-level tokenizer.json"
          + " (ids 0-255 are UTF-8 bytes, 256 is <|endoftext|>). The same options and seed give identical bytes.",
      "Prints the folder and its parameter count as one JSON line."
    })
public final class InitModelCommand implements Callable<Integer> {

  @Option(names = "--arch", required = true, description = "gpt2 or llama.")
  ModelRecipe.Arch arch;

  @Option(names = "--vocab", required = true, description = "Vocabulary size, >= 257 (256 bytes + EOS).")
  int vocab;

  @Option(names = "--layers", required = true, description = "Transformer layers.")
  int layers;

  @Option(names = "--hidden", required = true, description = "Hidden width; divisible by --heads.")
  int hidden;

  @Option(names = "--heads", required = true, description = "Attention heads.")
  int heads;

  @Option(names = "--kv-heads", description = "llama only: key/value heads, dividing --heads (default: --heads).")
  Integer kvHeads;

  @Option(names = "--intermediate", description = "MLP width (default: 4 x --hidden).")
  Integer intermediate;

  @Option(names = "--max-positions", defaultValue = "512", description = "Longest sequence (default: ${DEFAULT-VALUE}).")
  int maxPositions;

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
          intermediate == null ? 4 * hidden : intermediate, maxPositions, tieEmbeddings);
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
}
