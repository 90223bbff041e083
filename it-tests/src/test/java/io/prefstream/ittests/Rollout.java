package io.prefstream.ittests;

import static org.awaitility.Awaitility.await;

import io.prefstream.publisher.ModelTopic;
import io.prefstream.publisher.PendingChunks;
import io.prefstream.publisher.RolloutAgent;
import io.prefstream.publisher.ServingNotifier;
import io.prefstream.publisher.VersionFolders;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** A rollout agent following a model topic into version folders, as serving hosts run it. */
final class Rollout {
  private Rollout() {}

  /**
   * Follows {@code topic} until {@code model} has a current version under {@code dir}.
   *
   * @param consumerProps a consumer's settings, the registry's included
   * @return the current version's folder
   */
  static Path firstVersion(Map<String, Object> consumerProps, String topic, String model, Path dir) throws InterruptedException {
    VersionFolders folders = new VersionFolders(dir);
    RolloutAgent agent = new RolloutAgent(model, folders, Optional.empty(), PendingChunks.Limits.DEFAULT, OptionalDouble.empty(), 3, ServingNotifier.NONE);
    AtomicBoolean running = new AtomicBoolean(true);
    Thread follower = new Thread(() -> {
      try (var consumer = new KafkaConsumer<>(consumerProps, new StringDeserializer(), ModelTopic.deserializer(consumerProps))) {
        agent.run(consumer, topic, running::get);
      }
    }, "e2e-rollout-" + topic);
    follower.start();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> folders.current().isPresent());
    } finally {
      running.set(false);
      follower.join(10_000);
    }
    return dir.resolve("current");
  }
}
