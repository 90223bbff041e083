package io.prefstream.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Locates {@code testkit/reference-vectors} (independent float64 values for the DPO math; a copy of
 * the team's {@code shared/reference-vectors}, kept in the repository so that a bare clone tests
 * the same) from wherever the test JVM runs in the repository.
 */
public final class ReferenceVectors {

  private ReferenceVectors() {}

  /** @return {@code .../testkit/reference-vectors/<arch>} */
  public static Path dir(String arch) {
    Path start = Paths.get(System.getProperty("user.dir")).toAbsolutePath();
    for (Path p = start; p != null; p = p.getParent()) {
      Path candidate = p.resolve("testkit").resolve("reference-vectors");
      if (Files.isDirectory(candidate)) {
        return candidate.resolve(arch);
      }
    }
    throw new IllegalStateException(
        "no testkit/reference-vectors found in " + start + " or any parent: run the tests inside the repository");
  }
}
