package io.prefstream.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prefstream.schemas.PreferencePair;
import io.prefstream.testkit.KafkaBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Our serializer's bytes, through a real broker, read back by our deserializer; JSON alongside. */
class BrokerRoundTripTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();

  @Test
  void avroAndJsonRecords_readBackThroughTheBroker() throws Exception {
    String topic = "serde.roundtrip";
    broker.createTopic(topic, 1);
    Map<String, Object> producerProps = new HashMap<>(broker.producerProps());
    producerProps.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    producerProps.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, AvroSerializer.class.getName());
    producerProps.put(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://roundtrip");
    try (var avro = new KafkaProducer<String, PreferencePair>(producerProps);
        var json = new KafkaProducer<String, PreferencePair>(producerProps, new StringSerializer(), new JsonSerializer<>())) {
      avro.send(new ProducerRecord<>(topic, "p1", Records.pair("avro-1"))).get();
      json.send(new ProducerRecord<>(topic, "p1", Records.pair("json-1"))).get();
    }

    Map<String, Object> consumerProps = new HashMap<>(broker.consumerProps("serde-roundtrip"));
    consumerProps.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    consumerProps.put(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://roundtrip");
    var deserializer = new RecordDeserializer<>(PreferencePair.class);
    deserializer.configure(consumerProps, false);
    List<PreferencePair> read = new ArrayList<>();
    try (var consumer = new KafkaConsumer<>(consumerProps, new StringDeserializer(), deserializer)) {
      consumer.subscribe(List.of(topic));
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> read.add(r.value()));
        return read.size() >= 2;
      });
    }
    assertThat(read).containsExactly(Records.pair("avro-1"), Records.pair("json-1"));
  }

  @Test
  void poisonPill_failsNamingPartitionOffsetTopicAndBytes() throws Exception {
    String topic = "serde.poison";
    broker.createTopic(topic, 1);
    try (var producer = new KafkaProducer<byte[], byte[]>(broker.producerProps())) {
      producer.send(new ProducerRecord<>(topic, new byte[] {9, 9, 9, 9, 9, 9})).get();
    }
    var deserializer = new RecordDeserializer<>(PreferencePair.class);
    try (var consumer = new KafkaConsumer<>(broker.consumerProps("serde-poison"), new StringDeserializer(), deserializer)) {
      consumer.subscribe(List.of(topic));
      org.apache.kafka.common.errors.RecordDeserializationException error = await().atMost(Duration.ofSeconds(30))
          .until(() -> {
            try {
              consumer.poll(Duration.ofMillis(200));
              return null;
            } catch (org.apache.kafka.common.errors.RecordDeserializationException e) {
              return e;
            }
          }, java.util.Objects::nonNull);
      assertThat(error.topicPartition().topic()).isEqualTo(topic);
      assertThat(error.offset()).isZero();
      assertThat(error.getMessage()).contains("offset 0");
      assertThat(error.getCause()).hasMessageContaining("topic serde.poison").hasMessageContaining("09 09 09 09 09 09");
    }
  }
}
