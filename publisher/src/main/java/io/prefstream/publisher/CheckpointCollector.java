package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointChunk;
import io.prefstream.schemas.CheckpointManifest;
import java.util.Optional;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns one model's records off the model topic into verified checkpoints, for every reader of
 * the topic (rollout agent, {@code checkpoints get}, the trainer's restore). Versions at or below
 * the floor are neither collected nor assembled: a replayed or re-published old version is logged
 * and ignored. Whatever cannot be used is logged with its partition and offset and skipped.
 */
final class CheckpointCollector {
  private static final Logger log = LoggerFactory.getLogger(CheckpointCollector.class);
  private final String model;
  private final CheckpointAssembler assembler;
  private final ManifestFilter filter;
  private long floor;

  CheckpointCollector(String model, CheckpointAssembler assembler, ManifestFilter filter) {
    this.model = model;
    this.assembler = assembler;
    this.filter = filter;
  }

  /** From now on only versions above this one are collected. */
  void raiseFloor(long version) {
    if (version <= floor) return;
    floor = version;
    assembler.discardUpTo(version);
  }

  long floor() {
    return floor;
  }

  /** Takes one record; a verified checkpoint when it completes one above the floor. */
  Optional<Checkpoint> accept(ConsumerRecord<String, SpecificRecord> record) {
    String where = record.topic() + "-" + record.partition() + "@" + record.offset();
    if (record.value() instanceof CheckpointChunk chunk && model.equals(chunk.getModelName()) && chunk.getVersion() > floor) {
      try {
        assembler.add(chunk, record.timestamp());
      } catch (CheckpointRejectedException e) {
        log.warn("skipped chunk at {}: {}", where, e.getMessage());
      }
    } else if (record.value() instanceof CheckpointManifest manifest && model.equals(manifest.getModelName())) {
      if (manifest.getVersion() <= floor) {
        log.info("ignored {} v{} at {}: not newer than v{}", model, manifest.getVersion(), where, floor);
        return Optional.empty();
      }
      Optional<String> refusal = filter.refusal(manifest);
      if (refusal.isPresent()) {
        log.info("ignored {} v{} at {}: {}", model, manifest.getVersion(), where, refusal.get());
        return Optional.empty();
      }
      try {
        return Optional.of(assembler.complete(manifest));
      } catch (CheckpointRejectedException e) {
        log.warn("refused checkpoint at {}: {}", where, e.getMessage());
      }
    }
    return Optional.empty();
  }
}
