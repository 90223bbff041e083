package io.prefstream.trainer.service;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.trainer.dpo.PreferenceExample;
import io.prefstream.trainer.model.SafeTensors;
import io.prefstream.trainer.optim.AdamW;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What resuming needs besides the weights, saved with each checkpoint as companion files: the
 * optimizer's moments ({@code optimizer.safetensors}), the counters ({@code trainer_state.json}:
 * the trainer's steps and the optimizer's updates, which differ by the skipped steps) and the
 * held-out examples in token ids ({@code held_out.json}), so that evaluation after a restart
 * measures the same set as before it.
 */
record TrainerState(long step, long version, List<PreferenceExample> heldOut) {
  static final String OPTIMIZER = "optimizer.safetensors";
  static final String COUNTERS = "trainer_state.json";
  static final String HELD_OUT = "held_out.json";
  private static final String OPTIMIZER_UPDATES = "optimizer_updates";
  private static final ObjectMapper JSON = new ObjectMapper();

  TrainerState {
    heldOut = List.copyOf(heldOut);
  }

  void save(AdamW optimizer, Path dir) {
    try {
      Files.createDirectories(dir);
      SafeTensors.write(optimizer.state(), dir.resolve(OPTIMIZER));
      Files.writeString(dir.resolve(COUNTERS), JSON.writeValueAsString(Map.of("step", step, "version", version, OPTIMIZER_UPDATES, optimizer.step())));
      ArrayNode examples = JSON.createArrayNode();
      for (PreferenceExample e : heldOut) {
        ObjectNode o = examples.addObject().put("id", e.id()).put("weight", e.weight());
        ints(o.putArray("prompt_ids"), e.prompt());
        ArrayNode responses = o.putArray("responses_ids");
        for (int[] r : e.responses()) ints(responses.addArray(), r);
      }
      Files.writeString(dir.resolve(HELD_OUT), JSON.writeValueAsString(examples));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save trainer state to " + dir, e);
    }
  }

  /** Reads the counters and held-out set and restores the optimizer from a saved state folder. */
  static TrainerState restore(Path dir, AdamW optimizer, NDManager manager) {
    try {
      JsonNode counters = JSON.readTree(dir.resolve(COUNTERS).toFile());
      long step = counters.get("step").asLong();
      try (NDManager scratch = manager.newSubManager(); SafeTensors file = SafeTensors.open(dir.resolve(OPTIMIZER))) {
        Map<String, NDArray> moments = new LinkedHashMap<>();
        for (String name : file.entries().keySet()) moments.put(name, file.load(name, scratch));
        // a checkpoint from before the updates were saved: its step count is the best there is
        optimizer.restore(moments, counters.has(OPTIMIZER_UPDATES) ? counters.get(OPTIMIZER_UPDATES).asLong() : step);
      }
      List<PreferenceExample> heldOut = new ArrayList<>();
      if (Files.exists(dir.resolve(HELD_OUT))) {
        for (JsonNode o : JSON.readTree(dir.resolve(HELD_OUT).toFile())) {
          List<int[]> responses = new ArrayList<>();
          for (JsonNode r : o.get("responses_ids")) responses.add(ints(r));
          heldOut.add(new PreferenceExample(o.get("id").asText(), ints(o.get("prompt_ids")), responses, o.get("weight").asDouble()));
        }
      }
      return new TrainerState(step, counters.get("version").asLong(), heldOut);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot restore trainer state from " + dir, e);
    }
  }

  private static void ints(ArrayNode into, int[] values) {
    for (int v : values) into.add(v);
  }

  private static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
    return out;
  }
}
