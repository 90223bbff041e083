package io.prefstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.prefstream.broker.TopicCatalog;
import io.prefstream.broker.TopicSpec;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** docker-compose.yml cannot run here; this keeps it consistent with the launcher and the topics. */
class ComposeFileTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  void everyPrefstreamService_runsARealLauncherCommand() throws IOException {
    JsonNode services = compose().get("services");
    List<String> checked = new ArrayList<>();
    services.fields().forEachRemaining(service -> {
      if (!service.getValue().has("build")) return; // kafka, schema-registry: not ours
      List<String> words = new ArrayList<>();
      service.getValue().get("command").forEach(w -> words.add(w.asText()));
      CommandLine.ParseResult parsed = Prefstream.commandLine().parseArgs(words.toArray(String[]::new));
      assertThat(parsed.hasSubcommand()).as(service.getKey()).isTrue();
      checked.add(service.getKey());
    });
    assertThat(checked).contains("topics", "ingest", "trainer", "rollout");
  }

  @Test
  void everyTopicNamedInTheDeployment_isInTheCatalogue() throws IOException {
    Set<String> known = TopicCatalog.all().stream().map(TopicSpec::name).collect(Collectors.toSet());
    List<String> named = new ArrayList<>();
    try (Stream<Path> files = Files.list(ROOT.resolve("deploy"))) {
      for (Path file : files.filter(f -> f.toString().endsWith(".properties")).toList()) {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file)) {
          p.load(in);
        }
        p.stringPropertyNames().stream().filter(k -> k.endsWith(".topic")).map(p::getProperty).forEach(named::add);
      }
    }
    assertThat(named).isNotEmpty();
    assertThat(known).containsAll(named);
  }

  @Test
  void brokerAcceptsCheckpointChunks() throws IOException {
    int maxBytes = compose().at("/services/kafka/environment/KAFKA_MESSAGE_MAX_BYTES").asInt();
    assertThat(maxBytes).isGreaterThanOrEqualTo(TopicCatalog.MODEL_TOPIC_MAX_MESSAGE_BYTES);
  }

  private static JsonNode compose() throws IOException {
    return new ObjectMapper(new YAMLFactory()).readTree(ROOT.resolve("docker-compose.yml").toFile());
  }
}
