package io.prefstream.app;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.ingest.IngestMetrics;
import io.prefstream.ingest.IngestTopology;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;

/** The ingest topology as {@code bench ingest} runs it: started, and ready once Kafka Streams is RUNNING. */
final class TopologyPipe implements BenchPipe {
  private final KafkaStreams streams;
  private final IngestMetrics metrics = new IngestMetrics(new SimpleMeterRegistry());
  private final CountDownLatch running = new CountDownLatch(1);
  private volatile long readyNanos;

  private TopologyPipe(IngestConfig config) {
    Properties props = new Properties();
    props.putAll(config.streamsProperties());
    streams = new KafkaStreams(IngestTopology.build(config, metrics), props);
    streams.setStateListener((now, before) -> {
      if (now == KafkaStreams.State.RUNNING && running.getCount() > 0) {
        readyNanos = System.nanoTime();
        running.countDown();
      }
    });
  }

  /** Starts the topology; returns once it runs (joined, assigned, state restored). */
  static TopologyPipe start(IngestConfig config, Duration limit) throws InterruptedException {
    TopologyPipe pipe = new TopologyPipe(config);
    pipe.streams.start();
    if (!pipe.running.await(limit.toMillis(), TimeUnit.MILLISECONDS)) {
      KafkaStreams.State state = pipe.streams.state();
      pipe.close();
      throw new IllegalStateException("the ingest topology did not start within " + limit + ": " + state);
    }
    return pipe;
  }

  IngestMetrics metrics() {
    return metrics;
  }

  @Override
  public long readyNanos() {
    return readyNanos;
  }

  @Override
  public void close() {
    // leaving the group lets the next start rebalance at once instead of after the session timeout
    streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
  }
}
