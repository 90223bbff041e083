package io.prefstream.app;

import io.prefstream.publisher.ModelTopic;
import io.prefstream.schemas.serde.SerdeConfig;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Consumers of the model topic for the commands: client properties passed through, see {@link ModelTopic#consumerProps}. */
final class ModelTopicClients {
  /** The schema registry {@code prefstream broker} serves by default: where the commands look unless the client config names one. */
  static final String LOCAL_REGISTRY = "http://localhost:8081";

  private ModelTopicClients() {}

  static KafkaConsumer<String, SpecificRecord> consumer(String bootstrap, Path clientConfig) {
    Map<String, Object> props = ModelTopic.consumerProps(ClientProperties.load(clientConfig));
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "prefstream-inspect-" + UUID.randomUUID()); // readers assign partitions and commit nothing
    props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.putIfAbsent(SerdeConfig.SCHEMA_REGISTRY_URL, LOCAL_REGISTRY); // the trainer's schema ids live there, not in this JVM
    return new KafkaConsumer<>(props, new StringDeserializer(), ModelTopic.deserializer(props));
  }
}
