package io.prefstream.trainer.service;

import java.util.Map;

/**
 * A checkpoint this trainer published, as its manifest states it: read as one value, so the
 * metrics always belong to the version beside them.
 *
 * @param metrics the manifest's metrics: the last step's, and the held-out evaluation's under
 *     {@code eval/...} when there were held-out pairs
 */
public record PublishedCheckpoint(long version, long step, Map<String, Double> metrics) {
  public PublishedCheckpoint {
    metrics = Map.copyOf(metrics);
  }
}
