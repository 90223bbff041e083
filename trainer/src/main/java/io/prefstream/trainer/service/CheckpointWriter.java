package io.prefstream.trainer.service;

import io.prefstream.publisher.Folders;
import io.prefstream.schemas.CheckpointKind;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.OffsetRange;
import io.prefstream.trainer.dpo.PreferenceExample;
import io.prefstream.trainer.optim.AdamW;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * Writes a checkpoint under the work folder (the serving folder and the optimizer state beside
 * it, and with TR-DPO the reference) with the fields of its manifest, ready to publish (the publisher streams the files into chunks).
 * Each is full weights plus optimizer moments, so none outlives its transaction (see {@link Written#close}).
 */
final class CheckpointWriter {
  /** A checkpoint on disk ({@code folder}) and its manifest, files and chunks to be filled in as it is published. */
  record Written(long version, Path folder, CheckpointManifest.Builder manifest) implements AutoCloseable {
    Path serving() {
      return folder.resolve("model");
    }

    Path state() {
      return folder.resolve("state");
    }

    /** Deletes the files: once the transaction committed they are on the topic; once it was given up, the next checkpoint writes its own. */
    @Override
    public void close() {
      Folders.deleteQuietly(folder);
    }
  }

  private final TrainerConfig config;
  private final Path publishDir;
  private final Clock clock;

  /** Empties {@code workDir/publish}: what a run that stopped mid-publish left there is never published. */
  CheckpointWriter(TrainerConfig config, Path workDir, Clock clock) {
    this.config = config;
    this.publishDir = Folders.fresh(workDir.resolve("publish"));
    this.clock = clock;
  }

  /**
   * @param version the new version; its parent is {@code version - 1}, none for the first
   * @param newestEventTime event time of the newest pair covered so far, -1 for none
   * @param heldOut the held-out examples, kept with the checkpoint for the evaluation after a restart
   */
  Written write(long version, long step, TrainedModels models, AdamW optimizer, Map<String, Double> metrics,
      List<OffsetRange> covered, long newestEventTime, List<PreferenceExample> heldOut) {
    CheckpointManifest.Builder manifest = CheckpointManifest.newBuilder().setModelName(config.modelName()).setVersion(version)
        .setParentVersion(version == 1 ? null : version - 1).setCreatedTime(clock.millis()).setTrainerId(config.trainerId()).setStep(step)
        .setKind(config.lora().isPresent() ? CheckpointKind.LORA_ADAPTER : CheckpointKind.FULL_MODEL)
        .setFiles(List.of()).setChunkCount(0).setMetrics(metrics).setCoveredOffsets(covered)
        .setNewestEventTime(newestEventTime < 0 ? null : newestEventTime);
    Written written = new Written(version, publishDir.resolve(Long.toString(version)), manifest);
    try {
      models.save(written.serving());
      new TrainerState(step, version, heldOut).save(optimizer, written.state());
      if (config.referenceSync().isPresent()) models.saveReference(written.state()); // TR-DPO's reference moves: it resumes from here too
      return written;
    } catch (RuntimeException e) {
      written.close(); // e.g. a full disk: half a checkpoint helps nobody
      throw e;
    }
  }
}
