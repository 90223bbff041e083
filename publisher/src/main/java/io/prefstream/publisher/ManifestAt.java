package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointManifest;
import org.apache.kafka.common.TopicPartition;

/** A manifest as found on the model topic, with where it was. */
public record ManifestAt(CheckpointManifest manifest, TopicPartition partition, long offset) {
  /** Partition and offset as the readers log them, e.g. {@code model.checkpoints-0@46}. */
  public String where() {
    return partition + "@" + offset;
  }
}
