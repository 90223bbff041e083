package io.prefstream.trainer.service;

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
 */
final class CheckpointWriter {
  /** A checkpoint on disk and its manifest, files and chunks to be filled in as it is published. */
  record Written(long version, Path serving, Path state, CheckpointManifest.Builder manifest) {}

  private final TrainerConfig config;
  private final Path workDir;
  private final Clock clock;

  CheckpointWriter(TrainerConfig config, Path workDir, Clock clock) {
    this.config = config;
    this.workDir = workDir;
    this.clock = clock;
  }

  /**
   * @param version the new version; its parent is {@code version - 1}, none for the first
   * @param newestEventTime event time of the newest pair covered so far, -1 for none
   * @param heldOut the held-out examples, kept with the checkpoint for the evaluation after a restart
   */
  Written write(long version, long step, TrainedModels models, AdamW optimizer, Map<String, Double> metrics,
      List<OffsetRange> covered, long newestEventTime, List<PreferenceExample> heldOut) {
    Path serving = workDir.resolve("publish/" + version + "/model");
    Path state = workDir.resolve("publish/" + version + "/state");
    models.save(serving);
    new TrainerState(step, version, heldOut).save(optimizer, state);
    if (config.referenceSync().isPresent()) models.saveReference(state); // TR-DPO's reference moves: it resumes from here too
    CheckpointManifest.Builder manifest = CheckpointManifest.newBuilder().setModelName(config.modelName()).setVersion(version)
        .setParentVersion(version == 1 ? null : version - 1).setCreatedTime(clock.millis()).setTrainerId(config.trainerId()).setStep(step)
        .setFiles(List.of()).setChunkCount(0).setMetrics(metrics).setCoveredOffsets(covered)
        .setNewestEventTime(newestEventTime < 0 ? null : newestEventTime);
    return new Written(version, serving, state, manifest);
  }
}
