package io.prefstream.trainer.service;

import io.prefstream.publisher.Checkpoint;
import io.prefstream.publisher.CheckpointAssembler;
import io.prefstream.publisher.ManifestFilter;
import io.prefstream.publisher.ModelTopic;
import io.prefstream.publisher.ModelTopicReader;
import io.prefstream.publisher.PendingChunks;
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
 */
final class CheckpointRestore {
  private static final Logger log = LoggerFactory.getLogger(CheckpointRestore.class);

  private CheckpointRestore() {}

  /**
   * @param clientProps Kafka client and serde properties
   * @param signer the public key every manifest must be signed by, if the trainer has one
   * @return the checkpoint assembled under {@code workDir/restored} (serving files and optimizer state), if there is one
   */
  static Optional<Checkpoint> newest(TrainerConfig config, Map<String, Object> clientProps, Path workDir, Optional<PublicKey> signer) {
    Map<String, Object> props = ModelTopic.consumerProps(clientProps);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, config.trainerId() + "-restore");
    try (var consumer = new KafkaConsumer<>(props, new StringDeserializer(), ModelTopic.deserializer(props));
        var assembler = new CheckpointAssembler(signer, workDir.resolve("restoring"), PendingChunks.Limits.DEFAULT)) {
      Optional<Checkpoint> newest = new ModelTopicReader(consumer, config.modelTopic())
          .checkpoint(config.modelName(), Optional.empty(), assembler, ManifestFilter.publishedBy(config.trainerId()));
      if (newest.isEmpty()) {
        log.info("no checkpoint of {} by trainer {} yet: starting from {}", config.modelName(), config.trainerId(), config.modelDir());
        return Optional.empty();
      }
      Checkpoint restored = newest.get().moveTo(workDir.resolve("restored"));
      log.info("restored {} v{} (step {}) from {}{}", config.modelName(), restored.version(), restored.manifest().getStep(), config.modelTopic(),
          signer.isPresent() ? ", signature verified" : "");
      return Optional.of(restored);
    }
  }
}
