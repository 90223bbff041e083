package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.OffsetRange;
import java.util.ArrayList;
import java.util.List;

/** The input offsets a model's checkpoints say they cover: each input is trained on once when no offset repeats. */
public final class CoveredInputs {
  private CoveredInputs() {}

  /** Every {@code partition@offset} the manifests cover, once per manifest that covers it: a repeat is a pair trained twice. */
  public static List<String> of(List<CheckpointManifest> manifests) {
    List<String> out = new ArrayList<>();
    for (CheckpointManifest m : manifests) {
      for (OffsetRange r : m.getCoveredOffsets()) {
        for (long o = r.getFirstOffset(); o < r.getNextOffset(); o++) out.add(r.getPartition() + "@" + o);
      }
    }
    return out;
  }
}
