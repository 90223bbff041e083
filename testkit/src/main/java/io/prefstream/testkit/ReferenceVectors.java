package io.prefstream.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Locates {@code shared/reference-vectors} (independent float64 values for the DPO math), a sibling
 * of the repository root, from wherever the test JVM runs.
 */
public final class ReferenceVectors {

  private ReferenceVectors() {}

  /** @return {@code .../shared/reference-vectors/<arch>} */
  public static Path dir(String arch) {
    Path start = Paths.get(System.getProperty("user.dir")).toAbsolutePath();
    for (Path p = start; p != null; p = p.getParent()) {
      Path candidate = p.resolve("shared").resolve("reference-vectors");
      if (Files.isDirectory(candidate)) {
        return candidate.resolve(arch);
      }
    }
    throw new IllegalStateException(
        "no shared/reference-vectors found in " + start + " or any parent; the vectors live next to the repository root");
  }
}
