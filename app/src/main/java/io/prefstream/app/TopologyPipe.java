package io.prefstream.app;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.ingest.IngestMetrics;
import io.prefstream.ingest.IngestTopology;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kafka Streams topology as {@code bench ingest} runs it (the ingest topology, or one of the
 * {@link StreamsCeiling} topologies): started, and ready once Kafka Streams is RUNNING.
 */
final class TopologyPipe implements BenchPipe {
  private static final Logger log = LoggerFactory.getLogger(TopologyPipe.class);
  private static final Set<String> THREAD_METRICS = Set.of("process-ratio", "commit-ratio", "poll-ratio", "commit-latency-avg", "process-records-avg");

  private final KafkaStreams streams;
  private final String applicationId;
  private final CountDownLatch running = new CountDownLatch(1);

  private TopologyPipe(Topology topology, Map<String, Object> streamsProperties) {
    Properties props = new Properties();
    props.putAll(streamsProperties);
    applicationId = props.getProperty(StreamsConfig.APPLICATION_ID_CONFIG);
    streams = new KafkaStreams(topology, props);
    streams.setStateListener((now, before) -> {
      if (now == KafkaStreams.State.RUNNING) running.countDown();
    });
  }

  /** Starts the ingest topology; returns once it runs (joined, assigned, state restored). */
  static TopologyPipe start(IngestConfig config, Duration limit) throws InterruptedException {
    return start(IngestTopology.build(config, new IngestMetrics(new SimpleMeterRegistry())), config.streamsProperties(), limit);
  }

  /** Starts a topology under these Kafka Streams properties; returns once it runs (joined, assigned, state restored). */
  static TopologyPipe start(Topology topology, Map<String, Object> streamsProperties, Duration limit) throws InterruptedException {
    TopologyPipe pipe = new TopologyPipe(topology, streamsProperties);
    pipe.streams.start();
    if (!pipe.running.await(limit.toMillis(), TimeUnit.MILLISECONDS)) {
      KafkaStreams.State state = pipe.streams.state();
      pipe.close();
      throw new IllegalStateException("the topology " + pipe.applicationId + " did not start within " + limit + ": " + state);
    }
    return pipe;
  }

  /**
   * Where the stream thread spent its time (Kafka Streams' own thread metrics, over its last
   * loops): processing, committing the transaction, polling; and how long a commit takes.
   */
  private String threadTime() {
    StringBuilder out = new StringBuilder();
    streams.metrics().forEach((name, metric) -> {
      if (name.group().equals("stream-thread-metrics") && THREAD_METRICS.contains(name.name())) {
        out.append(String.format(Locale.ROOT, "%s=%.3f ", name.name(), ((Number) metric.metricValue()).doubleValue()));
      }
    });
    return out.toString().trim();
  }

  /** Kafka Streams names its threads, and its producers' network threads, after the application id. */
  @Override
  public long cpuNanos() {
    return BenchPipe.cpuNanosOfThreads(name -> name.contains(applicationId + "-"));
  }

  @Override
  public void close() {
    log.info("{} stream thread before stopping: {}", applicationId, threadTime());
    // leaving the group lets the next start rebalance at once instead of after the session timeout
    streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
  }
}
