package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * PEFT adapter folders in and out: {@code adapter_config.json} ({@code peft_type: LORA}) and
 * {@code adapter_model.safetensors} with PEFT's tensor names, so HF PEFT's
 * {@code PeftModel.from_pretrained} and vLLM's {@code load_lora_adapter} take them as they are.
 */
public final class AdapterFolder {

  public static final String CONFIG = "adapter_config.json";
  public static final String WEIGHTS = "adapter_model.safetensors";

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private AdapterFolder() {}

  /** Whether {@code dir} holds an adapter rather than a full model. */
  public static boolean isAdapter(Path dir) {
    return Files.isRegularFile(dir.resolve(CONFIG));
  }

  /**
   * Writes the adapter of {@code model} into {@code dir}, creating it.
   *
   * @param baseModel {@code base_model_name_or_path}: the base the adapter applies to
   */
  public static void save(LoraModel model, Path dir, String baseModel) {
    ObjectNode config = JSON.createObjectNode();
    config.put("peft_type", "LORA");
    config.put("task_type", "CAUSAL_LM");
    config.put("base_model_name_or_path", baseModel);
    config.put("r", model.lora().r());
    double alpha = model.lora().alpha();
    if (alpha == Math.rint(alpha)) config.put("lora_alpha", (long) alpha); else config.put("lora_alpha", alpha);
    config.put("lora_dropout", model.lora().dropout());
    model.targetModules().forEach(config.putArray("target_modules")::add);
    config.put("bias", "none");
    config.put("fan_in_fan_out", model.fanInFanOut());
    config.put("inference_mode", true);
    config.put("init_lora_weights", true);
    config.put("use_rslora", false);
    config.put("use_dora", false);
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve(CONFIG), JSON.writeValueAsString(config) + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir.resolve(CONFIG), e);
    }
    SafeTensors.write(model.parameters(), dir.resolve(WEIGHTS));
  }

  /** The LoRA hyper-parameters of the adapter in {@code dir}. */
  public static LoraConfig readConfig(Path dir) {
    Path file = dir.resolve(CONFIG);
    try {
      JsonNode c = JSON.readTree(file.toFile());
      if (!"LORA".equals(c.path("peft_type").asText())) {
        throw new IllegalArgumentException(file + ": peft_type is " + c.path("peft_type") + ", only LORA adapters are supported");
      }
      List<String> targets = new ArrayList<>();
      JsonNode t = c.path("target_modules");
      if (t.isTextual()) {
        targets.add(t.asText());
      } else {
        t.forEach(n -> targets.add(n.asText()));
      }
      return new LoraConfig(c.path("r").asInt(8), c.path("lora_alpha").asDouble(8), c.path("lora_dropout").asDouble(0), targets);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /**
   * Attaches the adapter in {@code dir} to {@code base}, which the returned model then owns.
   *
   * @throws IllegalArgumentException naming the tensor, when the adapter does not fit the base
   */
  public static LoraModel load(Path dir, CausalLm base) {
    LoraModel model = LoraModel.attach(base, readConfig(dir), 0);
    try (SafeTensors stored = SafeTensors.open(dir.resolve(WEIGHTS))) {
      for (Map.Entry<String, NDArray> p : model.parameters().entrySet()) {
        SafeTensors.Entry entry = stored.entries().get(p.getKey());
        if (entry == null) {
          throw new IllegalArgumentException(dir.resolve(WEIGHTS) + " lacks " + p.getKey() + " that adapter_config.json implies for this base");
        }
        if (!entry.shape().equals(p.getValue().getShape())) {
          throw new IllegalArgumentException(dir.resolve(WEIGHTS) + ": " + p.getKey() + " has shape " + entry.shape() + ", the base needs " + p.getValue().getShape());
        }
        try (NDArray loaded = stored.load(p.getKey(), model.manager())) {
          p.getValue().set(loaded.toByteBuffer());
        }
      }
      List<String> unknown = stored.entries().keySet().stream().filter(n -> !model.parameters().containsKey(n)).toList();
      if (!unknown.isEmpty()) {
        throw new IllegalArgumentException(dir.resolve(WEIGHTS) + " holds tensors this base has no target for: " + unknown);
      }
      return model;
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }
}
