package io.prefstream.ittests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.prefstream.broker.LocalBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ingest and the trainer on a SASL_PLAINTEXT listener with SCRAM-SHA-256 logins, set up only
 * through the client properties the services pass through; a wrong password is refused.
 */
class SaslScramTest {
  private static final String USER = "prefstream";
  private static final String PASSWORD = "s3cret-for-tests";
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  @TempDir Path tmp;

  @Test
  void servicesLogInWithScram_trainEndToEnd_wrongPasswordIsRefused() throws Exception {
    try (LocalBroker broker = LocalBroker.startWithScram(0, 0, tmp.resolve("kafka"))) {
      createUser(Clients.plaintext(broker.bootstrapServers(), "e2e-scram"));
      Clients scram = Clients.plaintext(broker.scramBootstrapServers().orElseThrow(), "e2e-scram").with(login(PASSWORD));
      // the credential reaches the listener through the metadata log: wait until a login works
      await().atMost(PATIENCE).ignoreExceptions().until(() -> clusterId(scram) != null);

      try (Pipeline pipeline = Pipeline.start("e2e-scram", scram, tmp); Feedback feedback = new Feedback(scram)) {
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 4 * Pipeline.BATCH_PAIRS; i++) {
          String id = "scram-" + i;
          feedback.avro(pipeline.topics().feedbackPairs(), "prompt-" + id, Feedback.pair(id).build()).get();
          sent.add(id);
        }
        await().atMost(PATIENCE).untilAsserted(() -> assertThat(pipeline.pairEventIds()).containsExactlyInAnyOrderElementsOf(sent));
        pipeline.awaitEveryPairTrainedOnce();
        pipeline.assertRunning();
      }

      Clients intruder = scram.with(login("not-" + PASSWORD));
      assertThatThrownBy(() -> clusterId(intruder)).hasCauseInstanceOf(SaslAuthenticationException.class);
    }
  }

  /** Over the plaintext listener, which controller and inter-broker traffic use too. */
  private static void createUser(Clients plaintext) throws Exception {
    try (Admin admin = plaintext.admin()) {
      admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(USER, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), PASSWORD)))
          .all().get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    }
  }

  private static Map<String, String> login(String password) {
    return Map.of(
        CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT",
        SaslConfigs.SASL_MECHANISM, LocalBroker.SCRAM_MECHANISM,
        SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + USER + "\" password=\"" + password + "\";");
  }

  private static String clusterId(Clients clients) throws Exception {
    try (Admin admin = clients.admin()) {
      return admin.describeCluster().clusterId().get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    }
  }
}
