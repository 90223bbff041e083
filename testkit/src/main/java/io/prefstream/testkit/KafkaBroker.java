package io.prefstream.testkit;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One real Kafka broker per test JVM, shared by every test class that registers it:
 *
 * <pre>{@code @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();}</pre>
 *
 * <p>The broker starts on first use (a Testcontainers broker when a Docker daemon answers, else
 * Kafka's own in-JVM KRaft test kit) and stops when the JVM exits. Tests isolate themselves by
 * topic name, not by broker.
 */
public final class KafkaBroker implements BeforeAllCallback {

  private static final KafkaBroker SHARED = new KafkaBroker();
  private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

  private RunningBroker running;

  private KafkaBroker() {}

  public static KafkaBroker shared() {
    return SHARED;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    bootstrapServers();
  }

  /** Starts the broker if it is not running yet. */
  public synchronized String bootstrapServers() {
    if (running == null) {
      running = BrokerBackends.start();
      Runtime.getRuntime().addShutdownHook(new Thread(running::close, "kafka-broker-stop"));
    }
    return running.bootstrapServers();
  }

  /** Creates the topic unless it exists already. */
  public void createTopic(String name, int partitions) {
    createTopic(name, partitions, Map.of());
  }

  /** Creates the topic with these topic configs (e.g. {@code max.message.bytes}) unless it exists already. */
  public void createTopic(String name, int partitions, Map<String, String> configs) {
    try (Admin admin = Admin.create(adminProps())) {
      try {
        admin
            .createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs)))
            .all()
            .get(ADMIN_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw new IllegalStateException("could not create topic " + name, e.getCause());
        }
      }
      awaitListed(admin, name);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topic " + name, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("could not create topic " + name, e);
    }
  }

  /**
   * Waits, at most {@link #ADMIN_TIMEOUT}, until the broker lists the topic: creation returns once
   * the controller has committed it, a moment before the broker's own metadata serves it, and a
   * client that lists topics in that moment (a service's start-up check) would not find it.
   */
  private static void awaitListed(Admin admin, String name) throws InterruptedException, ExecutionException, TimeoutException {
    long deadline = System.nanoTime() + ADMIN_TIMEOUT.toNanos();
    while (!admin.listTopics().names().get(ADMIN_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS).contains(name)) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("topic " + name + " was created but is not listed after " + ADMIN_TIMEOUT);
      Thread.sleep(10);
    }
  }

  public Map<String, Object> adminProps() {
    return Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
  }

  /** Byte-array producer properties; callers override the serializers they need. */
  public Map<String, Object> producerProps() {
    return Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
        ProducerConfig.ACKS_CONFIG, "all");
  }

  /** Byte-array consumer properties reading from the earliest offset, committed records only. */
  public Map<String, Object> consumerProps(String group) {
    return Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, group,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName(),
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
  }
}
