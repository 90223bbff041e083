package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointManifest;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.List;
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
 * Follows one model on the model topic (read_committed, so an aborted publish is never seen) and
 * rolls its checkpoints out, forward only.
 *
 * <p>On start it reads back from the end to the newest checkpoint it trusts and from there to the
 * end, then rolls out only the newest good checkpoint, then each new one as it comes. A checkpoint
 * becomes current only if its version is greater than the current one ({@code DIR/current}, on
 * disk, so a restarted agent neither goes back nor runs its notifier again for what it applied);
 * older or equal versions (replayed or re-published) are logged and ignored, and a version folder
 * is rewritten only when it does not hold the files of the checkpoint being applied. It is written
 * to {@code DIR/<version>}, passes the promotion gate, serving is told, and only then is
 * {@code DIR/current} repointed. {@link #pin} is the only way back.
 */
public final class RolloutAgent {
  /** The held-out reward accuracy the promotion gate reads from the manifest's metrics. */
  public static final String ACCURACY_METRIC = "eval/rewards/accuracies";
  private static final Logger log = LoggerFactory.getLogger(RolloutAgent.class);

  private final String model;
  private final VersionFolders folders;
  private final CheckpointAssembler assembler;
  private final CheckpointCollector collector;
  private final OptionalDouble minAccuracy;
  private final int keep;
  private final ServingNotifier notifier;
  private Optional<Long> pinned = Optional.empty();

  public RolloutAgent(String model, VersionFolders folders, Optional<PublicKey> signer, PendingChunks.Limits pending,
      OptionalDouble minAccuracy, int keep, ServingNotifier notifier) {
    this.model = model;
    this.folders = folders;
    this.assembler = new CheckpointAssembler(signer, folders.workDir(), pending);
    this.collector = new CheckpointCollector(model, assembler, ManifestFilter.ANY);
    this.minAccuracy = minAccuracy;
    this.keep = keep;
    this.notifier = notifier;
    folders.current().ifPresent(collector::raiseFloor);
  }

  /**
   * Makes this version current, going back if it is older, and holds it there: while pinned, the
   * agent logs newer versions but rolls none out. The version comes from disk, or verified from
   * the topic.
   *
   * @throws IllegalArgumentException when the topic has no such version this agent trusts
   */
  public void pin(long version, Consumer<String, SpecificRecord> consumer, String topic) {
    if (!folders.has(version)) {
      try (Checkpoint checkpoint = new ModelTopicReader(consumer, topic).checkpoint(model, Optional.of(version), assembler, ManifestFilter.ANY)
          .orElseThrow(() -> new IllegalArgumentException("no verified v" + version + " of " + model + " on " + topic + " to pin"))) {
        folders.install(version, checkpoint.serving());
      }
    }
    pinned = Optional.of(version);
    if (folders.current().equals(pinned)) {
      log.info("{} v{} is current already; pinned", model, version);
      return;
    }
    notifier.activate(model, version, folders.folder(version), folders.current().orElse(-1L));
    folders.makeCurrent(version);
    log.info("{} v{} is current, pinned: newer versions are not rolled out until the agent runs without --pin", model, version);
  }

  /** Reads until {@code running} says stop. The consumer must be unsubscribed: the agent assigns it. */
  public void run(Consumer<String, SpecificRecord> consumer, String topic, BooleanSupplier running) {
    List<TopicPartition> tps = ModelTopicPartitions.assignAll(consumer, topic);
    Map<TopicPartition, Long> endAtStart = consumer.endOffsets(tps, ModelTopicPartitions.LIMIT);
    for (TopicPartition tp : tps) {
      consumer.seek(tp, ModelTopicPartitions.startOfNewest(consumer, tp, m -> m.getModelName().equals(model) && assembler.trusts(m)));
    }
    Checkpoint newestAtStart = null;
    boolean caughtUp = false;
    try {
      while (running.getAsBoolean()) {
        for (ConsumerRecord<String, SpecificRecord> r : ModelTopicPartitions.poll(consumer)) {
          Optional<Checkpoint> complete = accept(r);
          if (complete.isEmpty()) continue;
          if (caughtUp) {
            apply(complete.get());
          } else { // only the newest of those already on the topic is rolled out
            if (newestAtStart != null) newestAtStart.close();
            newestAtStart = complete.get();
            collector.raiseFloor(newestAtStart.version());
          }
        }
        if (!caughtUp && ModelTopicPartitions.reached(consumer, endAtStart)) {
          caughtUp = true;
          if (newestAtStart != null) apply(newestAtStart);
          newestAtStart = null;
          log.info("{}: read the model topic to its end; current is {}", model, folders.current().map(v -> "v" + v).orElse("none"));
        }
      }
    } finally {
      if (newestAtStart != null) newestAtStart.close();
      assembler.close();
    }
  }

  /** Takes one record; a verified checkpoint when it completes one of this model newer than what it has. */
  Optional<Checkpoint> accept(ConsumerRecord<String, SpecificRecord> record) {
    return collector.accept(record);
  }

  /** Writes the version and, past the promotion gate, makes it current; closes the checkpoint. */
  void apply(Checkpoint checkpoint) {
    try (checkpoint) {
      CheckpointManifest m = checkpoint.manifest();
      long version = m.getVersion();
      long previous = folders.current().orElse(-1L);
      if (pinned.isPresent()) {
        log.info("{} v{} verified but not rolled out: pinned at v{}", model, version, pinned.get());
        return;
      }
      if (version <= previous) {
        log.info("ignored {} v{}: not newer than the current v{}", model, version, previous);
        return;
      }
      Path folder = install(checkpoint);
      Double accuracy = m.getMetrics().get(ACCURACY_METRIC);
      if (minAccuracy.isPresent() && !(accuracy != null && accuracy >= minAccuracy.getAsDouble())) { // a missing or NaN metric fails
        log.warn("{} v{} written to {} but not promoted: held-out reward accuracy {} is not at least {}", model, version, folder, accuracy, minAccuracy.getAsDouble());
        return;
      }
      try {
        notifier.activate(model, version, folder, previous);
      } catch (RuntimeException e) {
        log.error("{} v{}: serving did not take it ({}); v{} stays current", model, version, e.getMessage(), previous);
        return;
      }
      folders.makeCurrent(version);
      collector.raiseFloor(version);
      folders.keepNewest(keep);
      log.info("{} v{} is current ({} files, held-out accuracy {}, signed by {})", model, version, m.getFiles().size(), accuracy,
          m.getPublicKeyFingerprint() == null ? "nobody" : m.getPublicKeyFingerprint());
    }
  }

  /**
   * {@code DIR/<version>} for the verified checkpoint. A folder of that version already there (not
   * promoted before: refused by the gate or by serving, or a crash before {@code current} moved) is
   * served only if it holds this manifest's files; else it is replaced by the verified one.
   */
  private Path install(Checkpoint checkpoint) {
    long version = checkpoint.version();
    if (!folders.has(version)) return folders.install(version, checkpoint.serving());
    if (folders.holds(version, checkpoint.manifest())) {
      log.info("{} v{} is on disk already with this manifest's files (not promoted before); it is not rewritten", model, version);
      return folders.folder(version);
    }
    log.warn("{} v{} is on disk already with other files (another checkpoint of that version, or a broken write): replaced by the one just verified",
        model, version);
    return folders.replace(version, checkpoint.serving());
  }
}
