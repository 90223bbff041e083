package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointManifest;
import java.util.Optional;

/** Which verified manifests a reader takes, and why it leaves the others (logged). */
@FunctionalInterface
public interface ManifestFilter {
  /** @return why the reader leaves this manifest, or empty to take it */
  Optional<String> refusal(CheckpointManifest manifest);

  ManifestFilter ANY = manifest -> Optional.empty();

  /** Only what this trainer published: a trainer restores its own lineage, never another's. */
  static ManifestFilter publishedBy(String trainerId) {
    return m -> trainerId.equals(m.getTrainerId()) ? Optional.empty() : Optional.of("published by trainer '" + m.getTrainerId() + "', not '" + trainerId + "'");
  }
}
