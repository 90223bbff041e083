package io.prefstream.ittests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prefstream.broker.LocalBroker;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker stopped and started again (same port, same data folder) while feedback keeps coming:
 * ingest and the trainer ride the outage out, every pair sent reaches preference.pairs once, and
 * the checkpoints cover each of them once.
 */
class BrokerRestartTest {
  private static final Duration PATIENCE = Duration.ofSeconds(90);
  /**
   * After the restart: a stream thread whose commit timed out in the outage is replaced (see
   * StreamThreadFailures), and the fresh one gets its tasks once the dead one's group session
   * (45 s) has expired.
   */
  private static final Duration RECOVERY = PATIENCE.plus(Duration.ofSeconds(60));
  private static final Duration OUTAGE = Duration.ofSeconds(6);

  @TempDir Path tmp;

  @Test
  void brokerRestartUnderLoad_servicesRecover_everyPairTrainedOnce() throws Exception {
    Path data = tmp.resolve("kafka");
    LocalBroker broker = LocalBroker.start(0, data);
    Clients clients = Clients.plaintext(broker.bootstrapServers(), "e2e-restart");
    // the services give up on a blocked call well within the outage, as with the default 60 s on a longer one
    Clients impatient = clients.with(Map.of(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) OUTAGE.dividedBy(3).toMillis()));
    try (Pipeline pipeline = Pipeline.start("e2e-restart", impatient, tmp); Load load = new Load(new Feedback(clients), pipeline.topics().feedbackPairs())) {
      await().atMost(PATIENCE).until(() -> pipeline.checkpointVersion() >= 1);

      broker.close();
      int port = broker.port();
      // down long enough that every client's requests fail and its connections are refused
      await().during(OUTAGE).atMost(OUTAGE.plusSeconds(10)).until(() -> refusesConnections(port));
      broker = LocalBroker.start(port, data);

      long versionAtRestart = pipeline.checkpointVersion();
      await().atMost(RECOVERY).until(() -> pipeline.checkpointVersion() > versionAtRestart);
      List<String> sent = load.stop();

      // a read while the broker finds its feet may fail: that is no verdict
      await().atMost(RECOVERY).ignoreExceptions().untilAsserted(() -> {
        pipeline.assertRunning();
        assertThat(pipeline.pairEventIds()).containsExactlyInAnyOrderElementsOf(sent);
      });
      pipeline.awaitEveryPairTrainedOnce();
      pipeline.assertRunning();
    } finally {
      broker.close();
    }
  }

  private static boolean refusesConnections(int port) {
    try (Socket s = new Socket("localhost", port)) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  /** Valid pairs, a batch's worth every 200 ms, until stopped: the sent total is whole batches. */
  private static final class Load implements AutoCloseable {
    private final Feedback feedback;
    private final String topic;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final List<String> sent = new ArrayList<>();
    private final List<Future<RecordMetadata>> acks = new ArrayList<>();

    Load(Feedback feedback, String topic) {
      this.feedback = feedback;
      this.topic = topic;
      timer.scheduleAtFixedRate(this::sendBatch, 0, 200, TimeUnit.MILLISECONDS);
    }

    private synchronized void sendBatch() {
      for (int i = 0; i < Pipeline.BATCH_PAIRS; i++) {
        String id = "load-" + sent.size();
        acks.add(feedback.avro(topic, "prompt-" + id, Feedback.pair(id).build()));
        sent.add(id);
      }
    }

    synchronized List<String> sent() {
      return List.copyOf(sent);
    }

    /** Stops sending and checks the broker took every pair. @return the ids of the pairs sent */
    List<String> stop() throws Exception {
      timer.shutdown();
      assertThat(timer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
      feedback.flush();
      for (Future<RecordMetadata> ack : acks) ack.get(); // the producer retried through the outage; none failed
      return sent();
    }

    @Override
    public void close() {
      timer.shutdownNow();
      feedback.close();
    }
  }
}
