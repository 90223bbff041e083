package io.prefstream.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.confluent.kafka.serializers.KafkaAvroDeserializer;
import io.confluent.kafka.serializers.KafkaAvroSerializer;
import io.prefstream.schemas.PreferencePair;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runs only under {@code -Pconfluent}: Confluent's KafkaAvroSerializer/Deserializer and ours read
 * each other's bytes. Both talk to one in-test registry so that they share schema ids.
 */
class ConfluentInteropTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final List<String> schemas = new ArrayList<>();
  private HttpServer server;
  private Map<String, Object> config;

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
    config = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "http://127.0.0.1:" + server.getAddress().getPort(),
        SerdeConfig.SPECIFIC_AVRO_READER, "true");
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  /** Just enough of the registry API: register (POST .../versions) and fetch by id. */
  private synchronized void handle(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    String answer;
    if (ex.getRequestMethod().equals("POST") && path.endsWith("/versions")) {
      String schema = JSON.readTree(ex.getRequestBody()).get("schema").asText();
      int index = schemas.indexOf(schema);
      if (index < 0) {
        schemas.add(schema);
        index = schemas.size() - 1;
      }
      answer = "{\"id\":" + (index + 1) + "}";
    } else if (path.startsWith("/schemas/ids/")) {
      int id = Integer.parseInt(path.substring("/schemas/ids/".length()).replaceAll("/.*", ""));
      answer = JSON.createObjectNode().put("schema", schemas.get(id - 1)).toString();
    } else {
      answer = "{\"error_code\":40401,\"message\":\"not in this test registry: " + path + "\"}";
      byte[] out = answer.getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(404, out.length);
      ex.getResponseBody().write(out);
      ex.close();
      return;
    }
    byte[] out = answer.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/vnd.schemaregistry.v1+json");
    ex.sendResponseHeaders(200, out.length);
    ex.getResponseBody().write(out);
    ex.close();
  }

  @Test
  void confluentBytes_readByOurDeserializer() {
    KafkaAvroSerializer theirs = new KafkaAvroSerializer();
    theirs.configure(config, false);
    byte[] bytes = theirs.serialize("feedback.pairs", Records.pair("c1"));
    var ours = new RecordDeserializer<>(PreferencePair.class);
    ours.configure(config, false);
    assertThat(ours.deserialize("feedback.pairs", bytes)).isEqualTo(Records.pair("c1"));
  }

  @Test
  void ourBytes_readByConfluentDeserializer() {
    AvroSerializer<PreferencePair> ours = new AvroSerializer<>();
    ours.configure(config, false);
    byte[] bytes = ours.serialize("feedback.pairs", Records.pair("o1"));
    KafkaAvroDeserializer theirs = new KafkaAvroDeserializer();
    theirs.configure(config, false);
    assertThat(theirs.deserialize("feedback.pairs", bytes)).isEqualTo(Records.pair("o1"));
  }
}
