package io.prefstream.ittests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prefstream.broker.LocalBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link BrokerRestartTest} many times over, for what one restart hits only now and then: the
 * broker stops right after a burst of pairs, while ingest's transaction is in flight, for 4 to 8
 * seconds, longer than the services' {@code max.block.ms}; after each restart every pair sent must
 * reach preference.pairs. Not part of the build (minutes long):
 * {@code ./mvnw -B -pl it-tests -am test -Dtest=BrokerRestartSoakTest -Dsurefire.failIfNoSpecifiedTests=false -Dsoak.rounds=15}
 * ({@code -Dsoak.ingestMaxBlockMs=60000} gives ingest's producer Kafka's default instead).
 */
@EnabledIfSystemProperty(named = "soak.rounds", matches = "[0-9]+")
class BrokerRestartSoakTest {
  private static final Logger log = LoggerFactory.getLogger(BrokerRestartSoakTest.class);
  private static final int BURST = 20;
  /** A replaced stream thread waits out the dead one's group session (45 s), and a second may follow. */
  private static final Duration RECOVERY = Duration.ofSeconds(150);

  @TempDir Path tmp;

  @Test
  void restartsRightAfterBursts_everyPairThrough() throws Exception {
    Path data = tmp.resolve("kafka");
    LocalBroker broker = LocalBroker.start(0, data);
    Clients clients = Clients.plaintext(broker.bootstrapServers(), "soak");
    Clients impatient = clients.with(Map.of(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2000));
    Map<String, String> ingest = Map.of("producer." + ProducerConfig.MAX_BLOCK_MS_CONFIG, System.getProperty("soak.ingestMaxBlockMs", "2000"));
    Random random = new Random();
    List<String> sent = new ArrayList<>();
    try (Pipeline pipeline = Pipeline.start("soak", impatient, tmp, ingest, Map.of()); Feedback feedback = new Feedback(clients)) {
      String topic = pipeline.topics().feedbackPairs();
      for (int round = 0; round < Integer.getInteger("soak.rounds"); round++) {
        for (int i = 0; i < BURST; i++) {
          sent.add(send(feedback, topic, "r" + round + "-" + i));
          Thread.sleep(random.nextInt(100));
        }
        broker.close();
        Thread.sleep(4000 + random.nextInt(4000)); // the outage itself: nothing to wait for
        broker = LocalBroker.start(broker.port(), data);
        sent.add(send(feedback, topic, "r" + round + "-after"));
        feedback.flush();
        int r = round;
        // a read while the broker finds its feet may fail: that is no verdict
        await().atMost(RECOVERY).ignoreExceptions().untilAsserted(() -> {
          pipeline.assertRunning();
          assertThat(new HashSet<>(pipeline.pairEventIds())).as("round %d", r).containsAll(sent);
        });
        log.info("soak round {}: every pair through", round);
      }
      pipeline.awaitEveryPairTrainedOnce();
    } finally {
      broker.close();
    }
  }

  private static String send(Feedback feedback, String topic, String id) {
    feedback.avro(topic, "prompt-" + id, Feedback.pair(id).build());
    return id;
  }
}
