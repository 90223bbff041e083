package io.prefstream.schemas;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * Checks before a service starts that a Kafka broker answers and its topics exist, with one clear
 * error if not, instead of a client waiting for a minute and then failing on something else
 * (e.g. a producer's InitProducerId).
 */
public final class KafkaPreflight {
  private KafkaPreflight() {}

  /**
   * @param clientProps the service's Kafka client properties (bootstrap.servers, security)
   * @param service the service's name, for the message when bootstrap.servers is missing
   * @throws IllegalArgumentException when bootstrap.servers is not set
   * @throws IllegalStateException when no broker answers within the timeout, or a topic is missing
   */
  public static void check(Map<String, ?> clientProps, Collection<String> topics, String service, Duration timeout) {
    Map<String, Object> props = new HashMap<>(clientProps);
    props.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    props.putIfAbsent(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    Object bootstrap = props.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG);
    if (bootstrap == null) throw new IllegalArgumentException("bootstrap.servers is not set in the " + service + " configuration");
    try (Admin admin = Admin.create(props)) {
      Set<String> existing = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      Set<String> missing = new TreeSet<>(topics);
      missing.removeAll(existing);
      if (!missing.isEmpty()) {
        throw new IllegalStateException("topics " + missing + " do not exist at " + bootstrap + "; create them: prefstream topics create --bootstrap " + bootstrap);
      }
    } catch (TimeoutException e) {
      throw new IllegalStateException("no Kafka broker answered at " + bootstrap + " within " + timeout.toSeconds() + " s", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot reach Kafka at " + bootstrap + ": " + e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while checking Kafka at " + bootstrap, e);
    }
  }
}
