package io.prefstream.publisher;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** A rollout agent following the model topic on its own thread, as {@code prefstream rollout} runs it. */
final class Follower implements AutoCloseable {
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final Thread thread;

  Follower(RolloutAgent agent, Map<String, Object> consumerProps, Map<String, Object> serde, String topic) {
    Map<String, Object> props = new java.util.HashMap<>(consumerProps);
    props.putAll(serde);
    props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 << 20);
    thread = new Thread(() -> {
      try (var consumer = new KafkaConsumer<>(props, new StringDeserializer(), ModelTopic.deserializer(serde))) {
        agent.run(consumer, topic, running::get);
      }
    }, "follower-" + topic);
    thread.start();
  }

  @Override
  public void close() throws InterruptedException {
    running.set(false);
    thread.join(20_000);
  }

}
