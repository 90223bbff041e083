package io.prefstream.broker.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.confluent.kafka.serializers.KafkaAvroDeserializer;
import io.confluent.kafka.serializers.KafkaAvroSerializer;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.serde.RecordDeserializer;
import io.prefstream.testkit.KafkaBroker;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Runs only under {@code -Pconfluent} (Confluent's repository must be reachable): Confluent's own
 * KafkaAvroSerializer registers with the local registry, and both Confluent's deserializer and
 * prefstream's read the bytes back through it.
 */
class ConfluentClientTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();

  @Test
  void confluentsSerializer_registersAndReadsThroughTheLocalRegistry() {
    try (LocalSchemaRegistry registry = LocalSchemaRegistry.start(broker.bootstrapServers(), "127.0.0.1", 0)) {
      Map<String, Object> props = Map.of("schema.registry.url", registry.url(), "specific.avro.reader", true);
      String topic = "confluent-" + UUID.randomUUID();
      PreferencePair pair = PreferencePair.newBuilder().setEventId("e").setPrompt("q").setChosen("a").setRejected("b").build();
      try (KafkaAvroSerializer serializer = new KafkaAvroSerializer(); KafkaAvroDeserializer deserializer = new KafkaAvroDeserializer()) {
        serializer.configure(props, false);
        deserializer.configure(props, false);
        byte[] bytes = serializer.serialize(topic, pair);
        assertThat(deserializer.deserialize(topic, bytes)).isEqualTo(pair);
        RecordDeserializer<PreferencePair> ours = new RecordDeserializer<>(PreferencePair.class);
        ours.configure(props, false);
        assertThat(ours.deserialize(topic, bytes)).isEqualTo(pair);
      }
    }
  }
}
