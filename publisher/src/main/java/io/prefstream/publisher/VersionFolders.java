package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointFile;
import io.prefstream.schemas.CheckpointManifest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The rollout folder: {@code DIR/<version>/} per checkpoint, assembled elsewhere and renamed into
 * place so a reader never sees half of one, and never rewritten once there unless it does not hold
 * the checkpoint being applied (see {@link #replace}), and {@code DIR/current},
 * a symbolic link swapped atomically to the version being served. {@code DIR/.work} holds what is
 * being assembled (same file system, so the rename is atomic).
 */
public final class VersionFolders {
  static final String CURRENT = "current";
  private final Path root;

  public VersionFolders(Path root) {
    this.root = root;
    try {
      Files.createDirectories(root);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create rollout folder " + root, e);
    }
  }

  /** Where pending chunks and checkpoints being assembled are kept. */
  public Path workDir() {
    return root.resolve(".work");
  }

  public Path folder(long version) {
    return root.resolve(Long.toString(version));
  }

  public boolean has(long version) {
    return Files.isDirectory(folder(version));
  }

  /**
   * Moves an assembled serving folder into place as {@code DIR/<version>}.
   *
   * @throws IllegalStateException when that version is on disk already: only {@link #replace} rewrites one
   */
  public Path install(long version, Path serving) {
    Path target = folder(version);
    if (has(version)) throw new IllegalStateException("version " + version + " is in " + target + " already and is never rewritten");
    try {
      Files.move(serving, target, StandardCopyOption.ATOMIC_MOVE);
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot move version " + version + " into " + root, e);
    }
  }

  /**
   * Whether {@code DIR/<version>} holds exactly the manifest's serving files, each with its size and
   * SHA-256. A folder left by a refused or interrupted rollout may hold another checkpoint that
   * carries the same version (a lineage started again, two trainers of one model name).
   */
  public boolean holds(long version, CheckpointManifest manifest) {
    List<CheckpointFile> onDisk;
    try {
      onDisk = new CheckpointCutter(CheckpointCutter.DEFAULT_CHUNK_BYTES).describe(folder(version));
    } catch (IllegalArgumentException | UncheckedIOException e) { // no files, or unreadable: not that checkpoint
      return false;
    }
    return new HashSet<>(onDisk).equals(new HashSet<>(manifest.getFiles()));
  }

  /**
   * Puts an assembled serving folder in place of the {@code DIR/<version>} there, one that does not
   * hold this checkpoint (see {@link #holds}): the old folder is renamed aside first, so that name
   * never holds a mix of the two.
   */
  public Path replace(long version, Path serving) {
    Path aside = workDir().resolve("replaced-" + version + "-" + System.nanoTime());
    try {
      Files.move(folder(version), aside, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot move version " + version + " out of " + root, e);
    }
    Path installed = install(version, serving);
    Folders.deleteQuietly(aside);
    return installed;
  }

  /** Points {@code current} at the version, atomically. */
  public void makeCurrent(long version) {
    Path link = root.resolve(".current-" + System.nanoTime());
    try {
      Files.createSymbolicLink(link, Path.of(Long.toString(version)));
      Files.move(link, root.resolve(CURRENT), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      Folders.deleteQuietly(link);
      throw new UncheckedIOException("cannot point " + root.resolve(CURRENT) + " at version " + version, e);
    }
  }

  /** The version {@code current} points at, if any. */
  public Optional<Long> current() {
    Path link = root.resolve(CURRENT);
    try {
      return Files.isSymbolicLink(link) ? Optional.of(Long.parseLong(Files.readSymbolicLink(link).toString())) : Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + link, e);
    }
  }

  /** Deletes all but the newest {@code keep} versions, never the current one. */
  public void keepNewest(int keep) {
    Optional<Long> current = current();
    List<Long> versions = versions();
    for (int i = 0; i < versions.size() - keep; i++) {
      long v = versions.get(i);
      if (current.isEmpty() || current.get() != v) Folders.deleteQuietly(folder(v));
    }
  }

  /** The versions on disk, oldest first. */
  public List<Long> versions() {
    try (Stream<Path> children = Files.list(root)) {
      return children.map(p -> p.getFileName().toString()).filter(n -> n.matches("\\d+")).map(Long::parseLong).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + root, e);
    }
  }
}
