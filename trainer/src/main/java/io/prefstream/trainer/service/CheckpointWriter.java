package io.prefstream.trainer.service;

import io.prefstream.publisher.CheckpointCutter;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.trainer.dpo.PreferenceExample;
import io.prefstream.trainer.optim.AdamW;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * Writes a checkpoint under the work folder (the serving folder and the optimizer state beside
 * it) and cuts it into chunks with its manifest, ready to publish.
 */
final class CheckpointWriter {
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
  CheckpointCutter.Cut write(long version, long step, TrainedModels models, AdamW optimizer, Map<String, Double> metrics,
      CoveredOffsets covered, long newestEventTime, List<PreferenceExample> heldOut) {
    Path serving = workDir.resolve("publish/" + version + "/model");
    Path state = workDir.resolve("publish/" + version + "/state");
    models.save(serving);
    new TrainerState(step, version, heldOut).save(optimizer, state);
    CheckpointManifest.Builder manifest = CheckpointManifest.newBuilder().setModelName(config.modelName()).setVersion(version)
        .setParentVersion(version == 1 ? null : version - 1).setCreatedTime(clock.millis()).setTrainerId(config.trainerId()).setStep(step)
        .setFiles(List.of()).setChunkCount(0).setMetrics(metrics).setCoveredOffsets(covered.asRanges())
        .setNewestEventTime(newestEventTime < 0 ? null : newestEventTime);
    return new CheckpointCutter(CheckpointCutter.DEFAULT_CHUNK_BYTES).cut(serving, state, manifest);
  }
}
