package io.prefstream.broker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/** Creates prefstream's topics, leaving existing ones as they are. */
public final class TopicCreator {
  /** How long topic creation waits for a broker by default. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  /** What happened to one topic. */
  public record Outcome(String topic, boolean created) {}

  private final Map<String, Object> adminProps;
  private final Duration timeout;

  /**
   * @param bootstrapServers where the brokers are
   * @param clientProps further client properties (SASL, TLS), passed through as they are
   * @param timeout how long to wait for the brokers before giving up with an error
   */
  public TopicCreator(String bootstrapServers, Map<String, ?> clientProps, Duration timeout) {
    this.timeout = timeout;
    Map<String, Object> props = new HashMap<>(clientProps);
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    props.putIfAbsent(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis() / 2);
    this.adminProps = props;
  }

  /**
   * Creates each topic that does not exist yet.
   *
   * @param partitions overrides each topic's default partition count when present
   */
  public List<Outcome> create(List<TopicSpec> topics, Integer partitions, short replicationFactor) {
    String bootstrap = String.valueOf(adminProps.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG));
    try (Admin admin = Admin.create(adminProps)) {
      Set<String> existing = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      List<Outcome> outcomes = new ArrayList<>();
      for (TopicSpec spec : topics) {
        if (existing.contains(spec.name())) {
          outcomes.add(new Outcome(spec.name(), false));
          continue;
        }
        NewTopic topic = new NewTopic(spec.name(), partitions == null ? spec.partitions() : partitions, replicationFactor)
            .configs(spec.configs());
        try {
          admin.createTopics(List.of(topic)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
          outcomes.add(new Outcome(spec.name(), true));
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) throw e; // another creator won the race
          outcomes.add(new Outcome(spec.name(), false));
        }
      }
      return outcomes;
    } catch (TimeoutException e) {
      throw new IllegalStateException("no Kafka broker answered at " + bootstrap + " within " + timeout.toSeconds() + " s", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw new IllegalStateException("creating topics at " + bootstrap + " failed: " + cause.getMessage(), cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics at " + bootstrap, e);
    }
  }
}
