package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Checkpoint folders and manifests for the publisher tests. */
final class Fixtures {
  private Fixtures() {}

  /** A model-like folder: config.json, a weights file of {@code weightBytes} seeded bytes, a nested tokenizer file. */
  static Path folder(Path dir, int weightBytes, long seed) throws IOException {
    Files.createDirectories(dir.resolve("tokenizer"));
    Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"gpt2\",\"seed\":" + seed + "}");
    byte[] weights = new byte[weightBytes];
    new Random(seed).nextBytes(weights);
    Files.write(dir.resolve("model.safetensors"), weights);
    Files.writeString(dir.resolve("tokenizer/tokenizer.json"), "{}");
    return dir;
  }

  static CheckpointManifest.Builder manifest(String model, long version, double accuracy) {
    return CheckpointManifest.newBuilder().setModelName(model).setVersion(version).setParentVersion(version > 1 ? version - 1 : null)
        .setCreatedTime(1_700_000_000_000L + version).setTrainerId("trainer-" + model).setStep(version * 10)
        .setMetrics(Map.of(RolloutAgent.ACCURACY_METRIC, accuracy)).setFiles(List.of()).setChunkCount(0);
  }
}
