package io.prefstream.broker.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The registry's store: a compacted single-partition topic, {@code _schemas}, with Confluent's
 * record layout (key {@code {"keytype":"SCHEMA","subject":..,"version":..,"magic":1}}, value
 * {@code {"subject","version","id","schema","deleted"}}; levels under {@code "keytype":"CONFIG"}),
 * so ids survive restarts and one topic holds everything, as in Confluent's registry.
 */
final class SchemaLog implements AutoCloseable {
  static final String TOPIC = "_schemas";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final KafkaProducer<byte[], byte[]> producer;

  private SchemaLog(KafkaProducer<byte[], byte[]> producer) {
    this.producer = producer;
  }

  /** Creates the topic if needed, replays it into {@code state}, and opens it for writing. */
  static SchemaLog open(String bootstrap, RegistryState state) {
    createTopic(bootstrap);
    replay(bootstrap, state);
    return new SchemaLog(new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true), new ByteArraySerializer(), new ByteArraySerializer()));
  }

  void append(RegistryState.Version v) {
    ObjectNode key = JSON.createObjectNode().put("keytype", "SCHEMA").put("subject", v.subject()).put("version", v.version()).put("magic", 1);
    ObjectNode value = JSON.createObjectNode().put("subject", v.subject()).put("version", v.version()).put("id", v.id())
        .put("schema", v.schema().toString()).put("deleted", false);
    send(key, value);
  }

  void appendLevel(String subject, Compatibility level) {
    ObjectNode key = JSON.createObjectNode().put("keytype", "CONFIG").put("subject", subject).put("magic", 0);
    send(key, JSON.createObjectNode().put("compatibilityLevel", level.name()));
  }

  private void send(ObjectNode key, ObjectNode value) {
    try {
      producer.send(new ProducerRecord<>(TOPIC, bytes(key), bytes(value))).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new RegistryError(500, 50001, "cannot write to " + TOPIC + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RegistryError(500, 50001, "interrupted while writing to " + TOPIC);
    }
  }

  private static void createTopic(String bootstrap) {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1).configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT))))
          .all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) throw new IllegalStateException("cannot create " + TOPIC + " at " + bootstrap, e.getCause());
    } catch (TimeoutException | InterruptedException e) {
      throw new IllegalStateException("cannot create " + TOPIC + " at " + bootstrap + ": " + e, e);
    }
  }

  private static void replay(String bootstrap, RegistryState state) {
    TopicPartition partition = new TopicPartition(TOPIC, 0);
    try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      long end = consumer.endOffsets(List.of(partition), TIMEOUT).get(partition);
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (consumer.position(partition, TIMEOUT) < end) {
        if (System.nanoTime() > deadline) throw new IllegalStateException("could not read " + TOPIC + " to its end within " + TIMEOUT.toSeconds() + " s");
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) apply(r, state);
      }
    }
  }

  private static void apply(ConsumerRecord<byte[], byte[]> r, RegistryState state) {
    if (r.value() == null) return; // a tombstone: nothing to restore
    try {
      JsonNode key = JSON.readTree(r.key());
      JsonNode value = JSON.readTree(r.value());
      switch (key.path("keytype").asText()) {
        case "SCHEMA" -> {
          if (!value.path("deleted").asBoolean(false)) {
            state.apply(new RegistryState.Version(value.path("subject").asText(), value.path("version").asInt(), value.path("id").asInt(),
                RegistryState.parse(value.path("schema").asText())));
          }
        }
        case "CONFIG" -> state.applyLevel(key.path("subject").isNull() || key.path("subject").isMissingNode() ? null : key.path("subject").asText(),
            Compatibility.parse(value.path("compatibilityLevel").asText()));
        default -> { } // other registries' record types (modes, deletes of subjects): not ours to interpret
      }
    } catch (IOException e) {
      throw new UncheckedIOException("unreadable record at offset " + r.offset() + " of " + TOPIC, e);
    }
  }

  private static byte[] bytes(JsonNode node) {
    return node.toString().getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }
}
