package io.prefstream.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalBrokerTest {
  @TempDir Path dataDir;

  @Test
  void createTopics_twice_createsOnceThenReportsExisting() throws Exception {
    try (LocalBroker broker = LocalBroker.start(0, dataDir)) {
      var creator = new TopicCreator(broker.bootstrapServers(), Map.of(), Duration.ofSeconds(30));
      List<TopicCreator.Outcome> first = creator.create(TopicCatalog.all(), null, (short) 1);
      List<TopicCreator.Outcome> second = creator.create(TopicCatalog.all(), null, (short) 1);

      assertThat(first).allMatch(TopicCreator.Outcome::created).hasSize(TopicCatalog.all().size());
      assertThat(second).noneMatch(TopicCreator.Outcome::created).hasSize(TopicCatalog.all().size());
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
        var resource = new ConfigResource(ConfigResource.Type.TOPIC, TopicCatalog.MODEL_CHECKPOINTS);
        // a just-created topic can be unknown to the broker's metadata cache for a moment
        ConfigEntry maxBytes = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
            .until(() -> admin.describeConfigs(Set.of(resource)).all().get().get(resource).get("max.message.bytes"), e -> e != null);
        assertThat(Integer.parseInt(maxBytes.value())).isGreaterThan(1024 * 1024);
      }
    }
  }

  @Test
  void restart_onSameFolder_keepsTopicsAndRecords() throws Exception {
    try (LocalBroker broker = LocalBroker.start(0, dataDir)) {
      new TopicCreator(broker.bootstrapServers(), Map.of(), Duration.ofSeconds(30)).create(TopicCatalog.all(), null, (short) 1);
      try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()),
          new StringSerializer(), new StringSerializer())) {
        producer.send(new ProducerRecord<>(TopicCatalog.TRAINER_METRICS, "m", "kept")).get();
      }
    }
    try (LocalBroker broker = LocalBroker.start(0, dataDir)) {
      var outcomes = new TopicCreator(broker.bootstrapServers(), Map.of(), Duration.ofSeconds(30)).create(TopicCatalog.all(), null, (short) 1);
      assertThat(outcomes).noneMatch(TopicCreator.Outcome::created);
      assertThat(readAll(broker.bootstrapServers(), TopicCatalog.TRAINER_METRICS)).containsExactly("kept");
    }
  }

  @Test
  void createTopics_withNoBroker_failsNamingTheAddress() throws IOException {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    var creator = new TopicCreator("localhost:" + closedPort, Map.of(), Duration.ofSeconds(2));
    assertThatThrownBy(() -> creator.create(TopicCatalog.all(), null, (short) 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("localhost:" + closedPort);
  }

  private static List<String> readAll(String bootstrap, String topic) {
    Map<String, Object> props = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.GROUP_ID_CONFIG, "restart-check",
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<String> values = new ArrayList<>();
    try (var consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (values.isEmpty() && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
      }
    }
    return values;
  }
}
