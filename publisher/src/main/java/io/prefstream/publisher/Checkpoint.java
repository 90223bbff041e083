package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointManifest;
import java.util.Map;

/**
 * A checkpoint in memory: its manifest and its files' bytes by relative path ('/'-separated),
 * serving files and companion files (optimizer state) together.
 */
public record Checkpoint(CheckpointManifest manifest, Map<String, byte[]> files) {
  public Checkpoint {
    files = Map.copyOf(files);
  }
}
