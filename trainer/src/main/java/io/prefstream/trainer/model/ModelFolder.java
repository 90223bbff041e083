package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Hugging Face model folders in and out: {@code config.json} plus {@code model.safetensors}, or
 * shards listed by {@code model.safetensors.index.json}. Saves write float32 weights with the same
 * tensor names, in one {@code model.safetensors} up to the shard size and as transformers'
 * {@code save_pretrained} shards them beyond it ({@code model-00001-of-0000N.safetensors}, each
 * tensor whole, plus the index), so transformers and vLLM load the result as it is.
 */
public final class ModelFolder {

  public static final String CONFIG = "config.json";
  public static final String WEIGHTS = "model.safetensors";
  public static final String WEIGHTS_INDEX = "model.safetensors.index.json";
  /** transformers' default {@code max_shard_size} ("5GB"). */
  public static final long DEFAULT_SHARD_BYTES = 5_000_000_000L;

  /** Files a save copies from the source folder so the result tokenizes as the original did. */
  static final List<String> TOKENIZER_FILES = List.of(
      "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt",
      "tokenizer.model", "added_tokens.json", "generation_config.json");

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ModelFolder() {}

  /**
   * Loads a model onto {@code parent}'s device, under a sub-manager of {@code parent} that
   * {@link CausalLm#close()} frees.
   *
   * @throws IllegalArgumentException naming the file and tensor, when config.json or the weights do not
   *     fit together
   */
  public static CausalLm load(Path dir, NDManager parent) {
    ModelConfig config = ModelConfig.read(dir.resolve(CONFIG));
    NDManager manager = parent.newSubManager(parent.getDevice());
    try (StoredTensors stored = StoredTensors.open(dir)) {
      LmBlock block = newBlock(config, manager);
      block.weights().load(stored, manager, dir.toString());
      return new TransformerLm(config, block, manager, Optional.of(dir));
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /** A new model with Hugging Face's default random init; one seed gives identical weights everywhere. */
  public static CausalLm random(ModelConfig config, long seed, NDManager parent) {
    NDManager manager = parent.newSubManager(parent.getDevice());
    try {
      LmBlock block = newBlock(config, manager);
      block.weights().initialize(seed, manager);
      return new TransformerLm(config, block, manager, Optional.empty());
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /**
   * Writes {@code config.json} and {@code model.safetensors} (float32) into {@code dir}, creating it.
   * When the model was loaded from a folder, its config.json's other fields (token ids, dtype hints)
   * are kept and its tokenizer files copied. Write into a new folder: a stale sharded index or shard
   * already there is not removed.
   */
  public static void save(CausalLm model, Path dir) {
    save(model, dir, DEFAULT_SHARD_BYTES);
  }

  /** As {@link #save(CausalLm, Path)}, with float32 weights over {@code shardBytes} split into shards. */
  public static void save(CausalLm model, Path dir, long shardBytes) {
    try {
      Files.createDirectories(dir);
      ObjectNode config = model.sourceFolder()
          .map(source -> source.resolve(CONFIG))
          .filter(Files::isRegularFile)
          .map(ModelFolder::readObject)
          .orElseGet(() -> JSON.createObjectNode());
      config.setAll(model.config().toJson());
      Files.writeString(dir.resolve(CONFIG), JSON.writeValueAsString(config) + "\n");
      writeWeights(model.parameters(), dir, shardBytes);
      if (model.sourceFolder().isPresent()) {
        copyTokenizerFiles(model.sourceFolder().get(), dir);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save model to " + dir, e);
    }
  }

  /**
   * One {@code model.safetensors}, or shards as transformers cuts them: tensors in name order, a new
   * shard when the next tensor would take the current one past {@code shardBytes}.
   */
  private static void writeWeights(Map<String, NDArray> tensors, Path dir, long shardBytes) throws IOException {
    List<Map<String, NDArray>> shards = new java.util.ArrayList<>();
    long inShard = 0;
    long total = 0;
    for (Map.Entry<String, NDArray> t : new java.util.TreeMap<>(tensors).entrySet()) {
      long bytes = t.getValue().getShape().size() * Float.BYTES;
      if (shards.isEmpty() || (inShard > 0 && inShard + bytes > shardBytes)) {
        shards.add(new LinkedHashMap<>());
        inShard = 0;
      }
      shards.get(shards.size() - 1).put(t.getKey(), t.getValue());
      inShard += bytes;
      total += bytes;
    }
    if (shards.size() == 1) {
      SafeTensors.write(tensors, dir.resolve(WEIGHTS));
      return;
    }
    ObjectNode index = JSON.createObjectNode();
    index.putObject("metadata").put("total_size", total);
    ObjectNode weightMap = index.putObject("weight_map");
    for (int i = 0; i < shards.size(); i++) {
      String name = String.format(java.util.Locale.ROOT, "model-%05d-of-%05d.safetensors", i + 1, shards.size());
      SafeTensors.write(shards.get(i), dir.resolve(name));
      shards.get(i).keySet().forEach(tensor -> weightMap.put(tensor, name));
    }
    Files.writeString(dir.resolve(WEIGHTS_INDEX), JSON.writeValueAsString(index) + "\n");
  }

  /** Copies whichever tokenizer files {@code from} has into {@code to}. */
  public static void copyTokenizerFiles(Path from, Path to) throws IOException {
    if (Files.isSameFile(from, to)) {
      return;
    }
    for (String name : TOKENIZER_FILES) {
      Path file = from.resolve(name);
      if (Files.isRegularFile(file)) {
        Files.copy(file, to.resolve(name), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  static LmBlock newBlock(ModelConfig config, NDManager constants) {
    if (config instanceof Gpt2Config gpt2) {
      return new Gpt2(gpt2, constants);
    }
    if (config instanceof Gemma3Config gemma3) {
      return new Gemma3(gemma3, constants);
    }
    return new Llama((LlamaConfig) config, constants); // ModelConfig is sealed: the remaining kind
  }

  private static ObjectNode readObject(Path file) {
    try {
      JsonNode node = JSON.readTree(file.toFile());
      if (!(node instanceof ObjectNode object)) {
        throw new IllegalArgumentException(file + " is not a JSON object");
      }
      return object;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** The tensors of {@code model.safetensors}, or of every shard an index lists. */
  private static final class StoredTensors implements WeightTable.TensorSource, AutoCloseable {
    private final Map<String, SafeTensors> fileOf;
    private final List<SafeTensors> files;

    private StoredTensors(Map<String, SafeTensors> fileOf, List<SafeTensors> files) {
      this.fileOf = fileOf;
      this.files = files;
    }

    static StoredTensors open(Path dir) {
      Path single = dir.resolve(WEIGHTS);
      if (Files.isRegularFile(single)) {
        SafeTensors file = SafeTensors.open(single);
        Map<String, SafeTensors> fileOf = new LinkedHashMap<>();
        file.entries().keySet().forEach(name -> fileOf.put(name, file));
        return new StoredTensors(fileOf, List.of(file));
      }
      Path index = dir.resolve(WEIGHTS_INDEX);
      if (!Files.isRegularFile(index)) {
        throw new IllegalArgumentException(dir + " has neither " + WEIGHTS + " nor " + WEIGHTS_INDEX);
      }
      JsonNode weightMap = readObject(index).path("weight_map");
      if (!weightMap.isObject()) {
        throw new IllegalArgumentException(index + " has no weight_map object");
      }
      Map<String, SafeTensors> shards = new LinkedHashMap<>();
      Map<String, SafeTensors> fileOf = new LinkedHashMap<>();
      try {
        for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
          String shardName = e.getValue().asText();
          SafeTensors shard = shards.computeIfAbsent(shardName, n -> SafeTensors.open(dir.resolve(n)));
          if (!shard.entries().containsKey(e.getKey())) {
            throw new IllegalArgumentException(index + " places " + e.getKey() + " in " + shardName + ", which lacks it");
          }
          fileOf.put(e.getKey(), shard);
        }
      } catch (RuntimeException e) {
        shards.values().forEach(SafeTensors::close);
        throw e;
      }
      return new StoredTensors(fileOf, List.copyOf(shards.values()));
    }

    @Override
    public Map<String, Shape> shapes() {
      Map<String, Shape> shapes = new LinkedHashMap<>();
      fileOf.forEach((name, file) -> shapes.put(name, file.entries().get(name).shape()));
      return Collections.unmodifiableMap(shapes);
    }

    @Override
    public NDArray load(String name, NDManager manager) {
      return fileOf.get(name).load(name, manager);
    }

    @Override
    public void close() {
      files.forEach(SafeTensors::close);
    }
  }
}
