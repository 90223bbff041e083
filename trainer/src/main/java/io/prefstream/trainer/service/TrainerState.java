package io.prefstream.trainer.service;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.prefstream.trainer.model.SafeTensors;
import io.prefstream.trainer.optim.AdamW;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What resuming needs besides the weights, saved with each checkpoint as companion files: the
 * optimizer's moments ({@code optimizer.safetensors}) and counters ({@code trainer_state.json}).
 */
record TrainerState(long step, long version) {
  static final String OPTIMIZER = "optimizer.safetensors";
  static final String COUNTERS = "trainer_state.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  void save(AdamW optimizer, Path dir) {
    try {
      Files.createDirectories(dir);
      SafeTensors.write(optimizer.state(), dir.resolve(OPTIMIZER));
      Files.writeString(dir.resolve(COUNTERS), JSON.writeValueAsString(Map.of("step", step, "version", version)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save trainer state to " + dir, e);
    }
  }

  /** Reads the counters and restores the optimizer from a saved state folder. */
  static TrainerState restore(Path dir, AdamW optimizer, NDManager manager) {
    try {
      var counters = JSON.readTree(dir.resolve(COUNTERS).toFile());
      TrainerState state = new TrainerState(counters.get("step").asLong(), counters.get("version").asLong());
      try (NDManager scratch = manager.newSubManager(); SafeTensors file = SafeTensors.open(dir.resolve(OPTIMIZER))) {
        Map<String, NDArray> moments = new LinkedHashMap<>();
        for (String name : file.entries().keySet()) moments.put(name, file.load(name, scratch));
        optimizer.restore(moments, state.step());
      }
      return state;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot restore trainer state from " + dir, e);
    }
  }
}
