package io.prefstream.ingest;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/** Checks before start-up that the brokers answer and every topic exists, with one clear error if not. */
public final class IngestPreflight {
  private IngestPreflight() {}

  public static void check(IngestConfig config, Duration timeout) {
    Map<String, Object> props = new HashMap<>(config.passThrough());
    props.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    props.putIfAbsent(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    Object bootstrap = props.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG);
    if (bootstrap == null) throw new IllegalArgumentException("bootstrap.servers is not set in the ingest configuration");
    IngestTopics t = config.topics();
    List<String> needed = List.of(t.feedbackPairs(), t.feedbackRatings(), t.feedbackRankings(), t.preferencePairs(), t.dlq());
    try (Admin admin = Admin.create(props)) {
      Set<String> existing = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      Set<String> missing = new TreeSet<>(needed);
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
