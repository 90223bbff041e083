package io.prefstream.trainer.service;

import io.prefstream.publisher.Checkpoint;
import io.prefstream.publisher.CheckpointAssembler;
import io.prefstream.publisher.ManifestAt;
import io.prefstream.publisher.ManifestFilter;
import io.prefstream.publisher.ManifestSignature;
import io.prefstream.publisher.ModelTopic;
import io.prefstream.publisher.ModelTopicReader;
import io.prefstream.publisher.PendingChunks;
import io.prefstream.schemas.CheckpointManifest;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads back the trainer's own newest checkpoint from the model topic: only one this trainer id
 * published, and, when the trainer holds a public key, only one signed by it; a foreign, forged,
 * corrupt or incomplete one is logged and skipped, so it never becomes the weights and optimizer
 * state. Reading starts near the end of the topic, so start-up reads one version's records
 * whatever the history. The trainer's consumer offsets were committed in the transaction that
 * published that checkpoint, under the same trainer id: resuming from them continues its lineage.
 * So when this trainer id did publish but none of its checkpoints restores (a signing key turned
 * on or rotated, chunks missing or dropped), it refuses to start rather than start over from
 * model.dir past offsets that stay committed.
 */
final class CheckpointRestore {
  private static final Logger log = LoggerFactory.getLogger(CheckpointRestore.class);

  private CheckpointRestore() {}

  /**
   * @param clientProps Kafka client and serde properties
   * @param signer the public key every manifest must be signed by, if the trainer has one
   * @return the checkpoint assembled under {@code workDir/restored} (serving files and optimizer state); empty when this
   *     trainer id never published one of this model
   * @throws IllegalStateException when it did publish one but none of its checkpoints can be restored: starting from
   *     model.dir then would drop what they trained on while their input offsets stay committed
   */
  static Optional<Checkpoint> newest(TrainerConfig config, Map<String, Object> clientProps, Path workDir, Optional<PublicKey> signer) {
    Map<String, Object> props = ModelTopic.consumerProps(clientProps);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, config.trainerId() + "-restore");
    ManifestFilter own = ManifestFilter.publishedBy(config.trainerId());
    try (var consumer = new KafkaConsumer<>(props, new StringDeserializer(), ModelTopic.deserializer(props));
        var assembler = new CheckpointAssembler(signer, workDir.resolve("restoring"), PendingChunks.Limits.DEFAULT)) {
      ModelTopicReader reader = new ModelTopicReader(consumer, config.modelTopic());
      Optional<Checkpoint> newest = reader.checkpoint(config.modelName(), Optional.empty(), assembler, own);
      if (newest.isEmpty()) {
        Optional<ManifestAt> published = reader.newestManifest(config.modelName(), own);
        if (published.isPresent()) throw new IllegalStateException(unrestorable(config, published.get(), signer));
        log.info("no checkpoint of {} by trainer {} yet: starting from {}", config.modelName(), config.trainerId(), config.modelDir());
        return Optional.empty();
      }
      Checkpoint restored = newest.get().moveTo(workDir.resolve("restored"));
      log.info("restored {} v{} (step {}) from {}{}", config.modelName(), restored.version(), restored.manifest().getStep(), config.modelTopic(),
          signer.isPresent() ? ", signature verified" : "");
      return Optional.of(restored);
    }
  }

  private static String unrestorable(TrainerConfig config, ManifestAt published, Optional<PublicKey> signer) {
    CheckpointManifest m = published.manifest();
    return "cannot restore " + config.modelName() + ": " + config.modelTopic() + " holds v" + m.getVersion() + " published by trainer " + config.trainerId()
        + " (at " + published.where() + "), but no checkpoint of that lineage can be restored: " + whyNot(m, signer) + ". Starting from "
        + config.modelDir() + " instead would drop from the weights every pair those checkpoints trained on (their input offsets stay committed) "
        + "and publish versions from v1 again, which rollout agents past them ignore. Either fix the cause and restart, or start a fresh lineage "
        + "from " + TrainerConfig.MODEL_DIR + " under a new " + TrainerConfig.TRAINER_ID + " (its consumer group reads " + config.pairsTopic()
        + " from the earliest pair kept)";
  }

  private static String whyNot(CheckpointManifest m, Optional<PublicKey> signer) {
    if (signer.isEmpty() || ManifestSignature.isSignedBy(m, signer.get())) {
      return "its chunks could not be assembled (missing, dropped past the pending limit of " + PendingChunks.Limits.DEFAULT.maxBytes()
          + " bytes, or corrupt: the warnings above say which)";
    }
    String required = "key " + shortFingerprint(ManifestSignature.fingerprint(signer.get())) + " (" + TrainerConfig.SIGNING_KEY + ")";
    if (m.getSignature() == null) {
      return "it is unsigned, and the trainer takes only manifests signed by " + required + " (if that was just turned on, this lineage needs it off)";
    }
    if (!ManifestSignature.fingerprint(signer.get()).equals(m.getPublicKeyFingerprint())) {
      return "it is signed by key " + shortFingerprint(m.getPublicKeyFingerprint()) + ", and the trainer takes only manifests signed by " + required
          + " (if that key was rotated, set it back to the one that signed this lineage)";
    }
    return "its signature by " + required + " does not verify";
  }

  /** The first 16 hex digits, as {@code checkpoints list} shows a signer. */
  private static String shortFingerprint(String fingerprint) {
    return fingerprint == null ? "none" : fingerprint.substring(0, Math.min(16, fingerprint.length()));
  }
}
