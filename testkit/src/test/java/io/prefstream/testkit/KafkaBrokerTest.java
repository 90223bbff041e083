package io.prefstream.testkit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class KafkaBrokerTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();

  @Test
  void producedRecord_isConsumedBack() throws Exception {
    broker.createTopic("testkit.roundtrip", 1);
    try (var producer = new KafkaProducer<byte[], byte[]>(broker.producerProps())) {
      producer.send(new ProducerRecord<>("testkit.roundtrip", "k".getBytes(UTF_8), "v".getBytes(UTF_8))).get();
    }
    List<ConsumerRecord<byte[], byte[]>> seen = new ArrayList<>();
    try (var consumer = new KafkaConsumer<byte[], byte[]>(broker.consumerProps("testkit"))) {
      consumer.subscribe(List.of("testkit.roundtrip"));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (seen.isEmpty() && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
      }
    }
    assertThat(seen).singleElement().satisfies(r -> assertThat(new String(r.value(), UTF_8)).isEqualTo("v"));
  }

  @Test
  void createTopic_isIdempotent() throws Exception {
    broker.createTopic("testkit.twice", 2);
    broker.createTopic("testkit.twice", 2);
    try (Admin admin = Admin.create(broker.adminProps())) {
      assertThat(admin.listTopics().names().get()).contains("testkit.twice");
      assertThat(admin.describeTopics(Set.of("testkit.twice")).allTopicNames().get().get("testkit.twice").partitions()).hasSize(2);
    }
  }

  @Test
  void shared_isOneBrokerPerJvm() {
    assertThat(KafkaBroker.shared()).isSameAs(broker);
    assertThat(KafkaBroker.shared().bootstrapServers()).isEqualTo(broker.bootstrapServers());
  }
}
