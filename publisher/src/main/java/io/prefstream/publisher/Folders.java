package io.prefstream.publisher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Folder chores of the publisher and the trainer: a fresh empty folder, a tree deleted. */
public final class Folders {
  private Folders() {}

  /** The folder, emptied of what an earlier run left there. */
  public static Path fresh(Path dir) {
    try {
      if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) deleteTree(dir);
      return Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create an empty folder " + dir, e);
    }
  }

  static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
    }
  }

  public static void deleteQuietly(Path dir) {
    try {
      if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) deleteTree(dir);
    } catch (IOException e) {
      // best effort: a leftover folder is named as temporary and emptied on the next start
    }
  }
}
