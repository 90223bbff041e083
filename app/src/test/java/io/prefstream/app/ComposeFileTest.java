package io.prefstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.prefstream.broker.TopicCatalog;
import io.prefstream.broker.TopicSpec;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.ingest.IngestTopics;
import io.prefstream.trainer.service.TrainerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** docker-compose.yml cannot run here; this keeps it consistent with the launcher and the topics. */
class ComposeFileTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  void everyPrefstreamService_runsARealLauncherCommand() throws IOException {
    JsonNode services = compose().get("services");
    List<String> checked = new ArrayList<>();
    services.properties().forEach(service -> {
      if (!service.getValue().has("build")) return; // kafka, schema-registry: not ours
      List<String> words = new ArrayList<>();
      service.getValue().get("command").forEach(w -> words.add(w.asText()));
      CommandLine.ParseResult parsed = Prefstream.commandLine().parseArgs(words.toArray(String[]::new));
      assertThat(parsed.hasSubcommand()).as(service.getKey()).isTrue();
      checked.add(service.getKey());
    });
    assertThat(checked).contains("topics", "ingest", "trainer", "rollout");
  }

  // The deploy files are parsed as the commands parse them: a misspelt key would fall into the
  // pass-through (client) properties and the service would silently use its default topic.
  @Test
  void ingestProperties_nameCatalogueTopicsThroughRealKeys() {
    IngestConfig c = IngestConfig.parse(ClientProperties.load(ROOT.resolve("deploy/ingest.properties")));
    IngestTopics t = c.topics();
    assertThat(List.of(t.feedbackPairs(), t.feedbackRatings(), t.feedbackRankings(), t.preferencePairs(), t.dlq()))
        .isSubsetOf(catalogue());
    assertThat(c.passThrough().keySet()).noneMatch(k -> k.endsWith(".topic"));
  }

  @Test
  void trainerProperties_nameCatalogueTopicsThroughRealKeys() {
    TrainerConfig c = TrainerConfig.parse(ClientProperties.load(ROOT.resolve("deploy/trainer.properties")));
    assertThat(List.of(c.pairsTopic(), c.modelTopic(), c.metricsTopic())).isSubsetOf(catalogue());
    assertThat(c.passThrough().keySet()).noneMatch(k -> k.endsWith(".topic"));
  }

  @Test
  void everyEnvironmentVariableOfAPrefstreamService_isReadByTheLauncher() throws IOException {
    String launcher = Files.readString(ROOT.resolve("bin/prefstream"));
    List<String> names = new ArrayList<>();
    compose().get("services").forEach(service -> {
      if (service.has("build") && service.has("environment")) service.get("environment").fieldNames().forEachRemaining(names::add);
    });
    assertThat(names).isNotEmpty().allSatisfy(name -> assertThat(launcher).contains("${" + name));
  }

  @Test
  void image_runsAsANonRootUser_andServicesPublishMetricsBeyondTheContainer() throws IOException {
    List<String> users = Files.readAllLines(Path.of("../Dockerfile")).stream().filter(l -> l.startsWith("USER ")).toList();
    assertThat(users).isNotEmpty().last().isEqualTo("USER prefstream"); // the last stage (gpu) too, after its root-only install
    assertThat(IngestConfig.parse(ClientProperties.load(Path.of("../deploy/ingest.properties"))).metricsHost()).isEqualTo("0.0.0.0");
    assertThat(TrainerConfig.parse(ClientProperties.load(Path.of("../deploy/trainer.properties"))).metricsHost()).isEqualTo("0.0.0.0");
  }

  @Test
  void brokerAcceptsCheckpointChunks() throws IOException {
    int maxBytes = compose().at("/services/kafka/environment/KAFKA_MESSAGE_MAX_BYTES").asInt();
    assertThat(maxBytes).isGreaterThanOrEqualTo(TopicCatalog.MODEL_TOPIC_MAX_MESSAGE_BYTES);
  }

  @Test
  void signingKey_reachesTheTrainerOnly_andItsPublicKeyTheRolloutAgent() throws IOException {
    JsonNode services = compose().get("services");
    TrainerConfig trainer = TrainerConfig.parse(ClientProperties.load(ROOT.resolve("deploy/trainer.properties")));
    assertThat(trainer.signingKey()).hasValue(Path.of("/keys/private/signing.pem"));
    assertThat(services.at("/trainer/volumes").toString()).contains("signing-key:/keys/private:ro");
    assertThat(services.at("/rollout/volumes").toString()).contains("public-key:/keys/public:ro").doesNotContain("signing-key");
    assertThat(services.at("/rollout/command").toString()).contains("\"--public-key\",\"/keys/public/signing.pub.pem\"");
    assertThat(services.at("/keys/command").toString()).contains("/keys/private").contains("/keys/public");
  }

  private static Set<String> catalogue() {
    return TopicCatalog.all().stream().map(TopicSpec::name).collect(Collectors.toSet());
  }

  private static JsonNode compose() throws IOException {
    return new ObjectMapper(new YAMLFactory()).readTree(ROOT.resolve("docker-compose.yml").toFile());
  }
}
