package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointManifest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A verified checkpoint assembled on disk: the serving files under {@link #serving()}, the
 * companion files (optimizer state, without their {@code _trainer_state/} prefix) under
 * {@link #companion()}. Closing it deletes whatever of the folder was not moved elsewhere.
 */
public record Checkpoint(CheckpointManifest manifest, Path root) implements AutoCloseable {
  public long version() {
    return manifest.getVersion();
  }

  public Path serving() {
    return root.resolve("serving");
  }

  public Path companion() {
    return root.resolve("companion");
  }

  /** Moves the assembled folder to {@code dir} (replacing what was there), on the same file system. */
  public Checkpoint moveTo(Path dir) {
    Folders.deleteQuietly(dir);
    try {
      Files.createDirectories(dir.getParent());
      Files.move(root, dir, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot move checkpoint v" + version() + " to " + dir, e);
    }
    return new Checkpoint(manifest, dir);
  }

  @Override
  public void close() {
    Folders.deleteQuietly(root);
  }
}
