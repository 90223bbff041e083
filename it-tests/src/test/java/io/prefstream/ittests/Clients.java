package io.prefstream.ittests;

import static org.awaitility.Awaitility.await;

import io.prefstream.schemas.serde.SerdeConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * How a test's own clients and the services reach the broker: bootstrap address, security settings
 * and the schema registry, passed to every client as the services' properties files pass them.
 */
record Clients(Map<String, Object> props) {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  Clients {
    props = Map.copyOf(props);
  }

  /** A plaintext broker and an in-memory registry scope of the test's own. */
  static Clients plaintext(String bootstrap, String registryScope) {
    return new Clients(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap, SerdeConfig.SCHEMA_REGISTRY_URL, "mock://" + registryScope));
  }

  /** These properties with some replaced or added. */
  Clients with(Map<String, ?> more) {
    Map<String, Object> p = new HashMap<>(props);
    p.putAll(more);
    return new Clients(p);
  }

  /** A producer of raw bytes, so that a test sends exactly the bytes an app (or a broken app) would. */
  KafkaProducer<byte[], byte[]> producer() {
    Map<String, Object> p = new HashMap<>(props);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  Admin admin() {
    return Admin.create(props);
  }

  void createTopics(List<String> names, int partitions) {
    try (Admin admin = admin()) {
      admin.createTopics(names.stream().map(n -> new NewTopic(n, partitions, (short) 1)).toList()).all().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("could not create topics " + names, e);
    }
  }

  /** Every committed record of the topic, from its beginning to its end as of now. */
  <K, V> List<ConsumerRecord<K, V>> readAll(String topic, Deserializer<K> keys, Deserializer<V> values) {
    Map<String, Object> p = new HashMap<>(props);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    List<ConsumerRecord<K, V>> out = new ArrayList<>();
    try (var consumer = new KafkaConsumer<>(p, keys, values)) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic, TIMEOUT).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
      await().atMost(TIMEOUT).until(() -> {
        consumer.poll(Duration.ofMillis(100)).forEach(out::add);
        return partitions.stream().allMatch(tp -> consumer.position(tp) >= end.get(tp));
      });
    }
    return out;
  }
}
