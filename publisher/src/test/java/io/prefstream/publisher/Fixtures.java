package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointChunk;
import io.prefstream.schemas.CheckpointManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Checkpoint folders, manifests, cut checkpoints and records for the publisher tests. */
final class Fixtures {
  private Fixtures() {}

  /** A checkpoint cut in memory: its chunks, then the manifest that names them (unsigned). */
  record Cut(List<CheckpointChunk> chunks, CheckpointManifest manifest) {}

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
        .setMetrics(Map.of(RolloutAgent.ACCURACY_METRIC, accuracy, "loss", 0.5, "rewards/margins", 1.5)).setFiles(List.of()).setChunkCount(0);
  }

  static Cut cut(Path folder, int chunkBytes, CheckpointManifest.Builder manifest) {
    List<CheckpointChunk> chunks = new ArrayList<>();
    CheckpointManifest m = new CheckpointCutter(chunkBytes).cut(folder, null, manifest, chunks::add).build();
    return new Cut(chunks, m);
  }

  /** A record as the consumer hands it over, at this offset of partition 0. */
  static ConsumerRecord<String, SpecificRecord> record(long offset, SpecificRecord value) {
    return new ConsumerRecord<>("model.checkpoints", 0, offset, "m", value);
  }

  /** The files under a folder by relative path, with their bytes. */
  static Map<String, byte[]> files(Path folder) throws IOException {
    Map<String, byte[]> out = new java.util.TreeMap<>();
    try (Stream<Path> walk = Files.walk(folder)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) out.put(folder.relativize(p).toString(), Files.readAllBytes(p));
    }
    return out;
  }
}
