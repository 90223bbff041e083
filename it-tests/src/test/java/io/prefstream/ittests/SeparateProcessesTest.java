package io.prefstream.ittests;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "On one machine, as separate processes", run as child processes of the launcher:
 * broker with its schema registry, topics, a model, ingest, train and rollout, each its own JVM;
 * JSON feedback in (what kcat or the console producer sends); a rolled-out folder that scores.
 */
class SeparateProcessesTest {
  private static final Duration START = Duration.ofSeconds(90);
  private static final String MODEL = "tiny"; // model.name in deploy/local/trainer.properties

  @TempDir Path dir;

  @Test
  void brokerIngestTrainRollout_asSeparateProcesses_turnJsonFeedbackIntoARolledOutModel() throws Exception {
    int registryPort = freePort();
    try (ChildProcess broker = ChildProcess.start(dir, "broker", "512m", "broker", "--port", "0", "--dir", dir.resolve("kafka-data").toString(),
        "--schema-registry-port", String.valueOf(registryPort))) {
      String bootstrap = broker.awaitLine("^bootstrap: (\\S+)$", START);
      String registry = broker.awaitLine("^schema registry: (\\S+)$", START);
      assertThat(registry).endsWith(":" + registryPort);

      try (ChildProcess topics = ChildProcess.start(dir, "topics", "256m", "topics", "create", "--bootstrap", bootstrap)) {
        assertThat(topics.awaitExit(START)).as(topics.console()).isZero();
      }
      Path model = dir.resolve("models/tiny");
      try (ChildProcess init = ChildProcess.start(dir, "init-model", "512m", "init-model", "--arch", "gpt2", "--vocab", "257", "--layers", "1",
          "--hidden", "16", "--heads", "2", "--max-positions", "64", "--out", model.toString())) {
        assertThat(init.awaitExit(START)).as(init.console()).isZero();
      }
      // the README's files, with this test's ports and folders
      Path ingestConfig = local("ingest.properties", Map.of("bootstrap.servers", bootstrap, "schema.registry.url", registry,
          "state.dir", dir.resolve("ingest-state").toString(), "metrics.port", "0"));
      Path trainConfig = local("trainer.properties", Map.of("bootstrap.servers", bootstrap, "schema.registry.url", registry,
          "model.dir", model.toString(), "metrics.port", "0"));
      Path rolloutConfig = local("rollout.properties", Map.of("schema.registry.url", registry));
      Path serving = dir.resolve("serving");
      try (ChildProcess ingest = ChildProcess.start(dir, "ingest", "512m", "ingest", "--config", ingestConfig.toString());
          ChildProcess train = ChildProcess.start(dir, "train", "1g", "train", "--config", trainConfig.toString(), "--work-dir", dir.resolve("trainer-work").toString());
          ChildProcess rollout = ChildProcess.start(dir, "rollout", "512m", "rollout", "--bootstrap", bootstrap, "--model", MODEL, "--dir", serving.toString(),
              "--consumer-config", rolloutConfig.toString())) {
        ingest.awaitLine("(ingest running)", START);

        sendJsonPairs(bootstrap, 8); // what `kcat -P -t feedback.pairs` sends: one JSON object per record

        await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
          assertThat(List.of(ingest, train, rollout)).allMatch(ChildProcess::isAlive);
          assertThat(serving.resolve("current")).exists();
        });
        assertThat(train.console()).doesNotContain("Exception");
      }

      Path pairs = dir.resolve("pairs.jsonl");
      Files.writeString(pairs, "{\"id\":\"hi\",\"prompt\":\"Say hi\",\"chosen\":\"Hi!\",\"rejected\":\"Go away.\"}\n");
      try (ChildProcess score = ChildProcess.start(dir, "score", "1g", "score", "--policy", serving.resolve("current").toString(),
          "--reference", model.toString(), "--pairs", pairs.toString())) {
        assertThat(score.awaitExit(START)).as(score.console()).isZero();
        JsonNode scored = new ObjectMapper().readTree(score.console().lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow());
        assertThat(scored.path("loss").isNumber()).as(score.console()).isTrue();
        assertThat(Double.isFinite(scored.path("loss").asDouble())).isTrue();
      }
    }
  }

  private void sendJsonPairs(String bootstrap, int n) throws Exception {
    try (var producer = new KafkaProducer<>(Map.<String, Object>of("bootstrap.servers", bootstrap), new StringSerializer(), new StringSerializer())) {
      for (int i = 0; i < n; i++) {
        String json = "{\"event_id\":\"json-" + i + "\",\"prompt\":\"Say hi " + i + "\",\"chosen\":\"Hi!\",\"rejected\":\"Go away.\"}";
        producer.send(new ProducerRecord<>("feedback.pairs", "prompt-" + i, json)).get();
      }
    }
  }

  /** deploy/local/{name} with these settings replaced. */
  private Path local(String name, Map<String, String> replaced) throws IOException {
    Properties props = new Properties();
    try (var in = Files.newBufferedReader(Path.of("../deploy/local", name))) {
      props.load(in);
    }
    props.putAll(replaced);
    Path file = dir.resolve(name);
    try (var out = Files.newBufferedWriter(file, UTF_8)) {
      props.store(out, "deploy/local/" + name + " for this test");
    }
    return file;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
