package io.prefstream.publisher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The rollout folder: {@code DIR/<version>/} per checkpoint, written to a temporary folder and
 * renamed into place so a reader never sees half of one, and {@code DIR/current}, a symbolic link
 * swapped atomically to the version being served.
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

  /** Writes the serving files of a version (companion files stay out) and returns its folder. */
  public Path write(long version, Map<String, byte[]> files) {
    Path target = root.resolve(Long.toString(version));
    Path temp = root.resolve(".tmp-" + version + "-" + System.nanoTime());
    try {
      for (Map.Entry<String, byte[]> f : files.entrySet()) {
        if (f.getKey().startsWith(CheckpointCutter.COMPANION_PREFIX)) continue;
        Path file = temp.resolve(CheckpointAssembler.safePath("version " + version, f.getKey()));
        Files.createDirectories(file.getParent());
        Files.write(file, f.getValue());
      }
      if (Files.exists(target)) deleteTree(target); // a re-delivery of the same version
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
      return target;
    } catch (IOException e) {
      deleteQuietly(temp);
      throw new UncheckedIOException("cannot write version " + version + " into " + root, e);
    }
  }

  /** Points {@code current} at the version, atomically. */
  public void makeCurrent(long version) {
    Path link = root.resolve(".current-" + System.nanoTime());
    try {
      Files.createSymbolicLink(link, Path.of(Long.toString(version)));
      Files.move(link, root.resolve(CURRENT), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      deleteQuietly(link);
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
      if (current.isEmpty() || current.get() != v) deleteQuietly(root.resolve(Long.toString(v)));
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

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
    }
  }

  private static void deleteQuietly(Path dir) {
    try {
      if (Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) deleteTree(dir);
    } catch (IOException e) {
      // best effort: a leftover temp folder is harmless and named as such
    }
  }
}
