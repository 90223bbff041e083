package io.prefstream.trainer.service;

import io.prefstream.publisher.SigningKeys;
import io.prefstream.schemas.KafkaPreflight;
import io.prefstream.trainer.model.ModelConfig;
import io.prefstream.trainer.model.ModelFolder;
import io.prefstream.trainer.model.SafeTensors;
import io.prefstream.trainer.tokenize.TextTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Checks the trainer's settings before it touches Kafka, each failure one message naming the
 * setting: the model folders read (config.json, the weights' headers, the tokenizer), the signing
 * key reads, then a broker answers and the topics exist.
 */
public final class TrainerPreflight {
  private TrainerPreflight() {}

  /**
   * @throws IllegalArgumentException naming the setting whose folder or key does not read
   * @throws IllegalStateException when no broker answers within the timeout, or a topic is missing
   */
  public static void check(TrainerConfig config, Duration timeout) {
    modelFolder(TrainerConfig.MODEL_DIR, config.modelDir());
    if (!config.referenceDir().equals(config.modelDir())) modelFolder(TrainerConfig.REFERENCE_DIR, config.referenceDir());
    config.signingKey().ifPresent(key -> {
      try {
        SigningKeys.read(key);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(TrainerConfig.SIGNING_KEY + "=" + key + ": " + e.getMessage(), e);
      }
    });
    KafkaPreflight.check(config.passThrough(), List.of(config.pairsTopic(), config.modelTopic(), config.metricsTopic(), config.dlqTopic()), "trainer", timeout);
  }

  /** Reads what loading reads first, without the weights themselves: config.json, the weights' headers, the tokenizer. */
  private static void modelFolder(String setting, Path dir) {
    if (!Files.isDirectory(dir)) throw new IllegalArgumentException(setting + "=" + dir + ": there is no such folder");
    try {
      ModelConfig.read(dir.resolve(ModelFolder.CONFIG));
      Path weights = dir.resolve(ModelFolder.WEIGHTS);
      if (Files.isRegularFile(weights)) {
        SafeTensors.open(weights).close();
      } else if (!Files.isRegularFile(dir.resolve(ModelFolder.WEIGHTS_INDEX))) {
        throw new IllegalArgumentException("it has neither " + ModelFolder.WEIGHTS + " nor " + ModelFolder.WEIGHTS_INDEX);
      }
      TextTokenizer.fromFolder(dir).close();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(setting + "=" + dir + " is not a model folder the trainer can load: " + e.getMessage(), e);
    }
  }
}
