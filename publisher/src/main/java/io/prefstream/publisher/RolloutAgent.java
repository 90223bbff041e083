package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointChunk;
import io.prefstream.schemas.CheckpointManifest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.BooleanSupplier;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows one model on the model topic (read_committed, so an aborted publish is never seen):
 * on start it reads the topic to its end and rolls out only the newest good checkpoint, then each
 * new one as it comes. A checkpoint is written to {@code DIR/<version>}, serving is told, and
 * only then is {@code DIR/current} repointed; a rejected or failed one leaves current as it was.
 */
public final class RolloutAgent {
  /** The held-out reward accuracy the promotion gate reads from the manifest's metrics. */
  public static final String ACCURACY_METRIC = "eval/rewards/accuracies";
  private static final Logger log = LoggerFactory.getLogger(RolloutAgent.class);

  private final String model;
  private final VersionFolders folders;
  private final CheckpointAssembler assembler;
  private final OptionalDouble minAccuracy;
  private final int keep;
  private final ServingNotifier notifier;

  public RolloutAgent(String model, VersionFolders folders, CheckpointAssembler assembler, OptionalDouble minAccuracy, int keep, ServingNotifier notifier) {
    this.model = model;
    this.folders = folders;
    this.assembler = assembler;
    this.minAccuracy = minAccuracy;
    this.keep = keep;
    this.notifier = notifier;
  }

  /** Reads until {@code running} says stop. The consumer must be subscribed or assigned already. */
  public void run(Consumer<String, SpecificRecord> consumer, BooleanSupplier running) {
    Map<TopicPartition, Long> endAtStart = null; // known once the group has assigned partitions
    Optional<Checkpoint> newestAtStart = Optional.empty();
    boolean caughtUp = false;
    while (running.getAsBoolean()) {
      var records = consumer.poll(Duration.ofMillis(200));
      if (endAtStart == null && !consumer.assignment().isEmpty()) endAtStart = consumer.endOffsets(consumer.assignment());
      for (ConsumerRecord<String, SpecificRecord> r : records) {
        Optional<Checkpoint> complete = accept(r.value());
        if (complete.isEmpty()) continue;
        if (caughtUp) apply(complete.get());
        else newestAtStart = complete;
      }
      if (!caughtUp && endAtStart != null && endAtStart.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
        caughtUp = true;
        newestAtStart.ifPresent(this::apply);
      }
    }
  }

  /** Takes one record; a verified checkpoint when it completes one of this model. */
  Optional<Checkpoint> accept(SpecificRecord value) {
    if (value instanceof CheckpointChunk chunk && chunk.getModelName().equals(model)) {
      assembler.add(chunk);
    } else if (value instanceof CheckpointManifest manifest && manifest.getModelName().equals(model)) {
      try {
        return Optional.of(assembler.complete(manifest));
      } catch (CheckpointRejectedException e) {
        log.error("refused checkpoint: {}", e.getMessage());
      }
    }
    return Optional.empty();
  }

  /** Writes the version and, past the promotion gate, makes it current. */
  void apply(Checkpoint checkpoint) {
    CheckpointManifest m = checkpoint.manifest();
    long version = m.getVersion();
    Path folder = folders.write(version, checkpoint.files());
    Double accuracy = m.getMetrics().get(ACCURACY_METRIC);
    if (minAccuracy.isPresent() && (accuracy == null || accuracy < minAccuracy.getAsDouble())) {
      log.warn("{} v{} written to {} but not promoted: held-out reward accuracy {} is below {}", model, version, folder, accuracy, minAccuracy.getAsDouble());
      return;
    }
    long previous = folders.current().orElse(-1L);
    try {
      notifier.activate(model, version, folder, previous);
    } catch (RuntimeException e) {
      log.error("{} v{}: serving did not take it ({}); v{} stays current", model, version, e.getMessage(), previous);
      return;
    }
    folders.makeCurrent(version);
    folders.keepNewest(keep);
    log.info("{} v{} is current ({} files, held-out accuracy {})", model, version, m.getFiles().size(), accuracy);
  }
}
