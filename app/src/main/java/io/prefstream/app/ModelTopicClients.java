package io.prefstream.app;

import io.prefstream.publisher.ModelTopic;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Consumers of the model topic for the commands: read_committed, client properties passed through. */
final class ModelTopicClients {
  private ModelTopicClients() {}

  static KafkaConsumer<String, SpecificRecord> consumer(String bootstrap, Path clientConfig, String group) {
    Map<String, Object> props = ClientProperties.load(clientConfig);
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, group == null ? "prefstream-inspect-" + UUID.randomUUID() : group);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.putIfAbsent(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.putIfAbsent(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 << 20);
    return new KafkaConsumer<>(props, new StringDeserializer(), ModelTopic.deserializer(props));
  }
}
