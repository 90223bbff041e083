package io.prefstream.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prefstream.schemas.PreferencePair;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The REST client against an in-test server that answers as Confluent's registry documents. */
class RestSchemaRegistryTest {
  private static final Schema SCHEMA = PreferencePair.getClassSchema();

  private record Seen(String method, String path, String contentType, String authorization, String body) {}

  private record Answer(int status, String body) {}

  private HttpServer server;
  private final List<Seen> seen = new ArrayList<>();
  private final Deque<Answer> answers = new ArrayDeque<>();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private void handle(HttpExchange ex) throws IOException {
    String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    synchronized (seen) {
      seen.add(new Seen(ex.getRequestMethod(), ex.getRequestURI().getRawPath(),
          ex.getRequestHeaders().getFirst("Content-Type"), ex.getRequestHeaders().getFirst("Authorization"), body));
    }
    Answer a = answers.isEmpty() ? new Answer(500, "{\"error_code\":50001,\"message\":\"no answer queued\"}") : answers.poll();
    byte[] out = a.body().getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", RestSchemaRegistry.CONTENT_TYPE);
    ex.sendResponseHeaders(a.status(), out.length);
    ex.getResponseBody().write(out);
    ex.close();
  }

  private RestSchemaRegistry client(Map<String, Object> extra) {
    var props = new java.util.HashMap<String, Object>(extra);
    props.put(SerdeConfig.SCHEMA_REGISTRY_URL, "http://127.0.0.1:" + server.getAddress().getPort());
    return new RestSchemaRegistry(SerdeConfig.parse(props));
  }

  @Test
  void register_postsSchemaWithContentTypeAndBasicAuth_andCachesTheId() {
    answers.add(new Answer(200, "{\"id\":21}"));
    RestSchemaRegistry registry = client(Map.of(SerdeConfig.BASIC_AUTH_USER_INFO, "alice:secret"));

    assertThat(registry.register("feedback.pairs-value", SCHEMA)).isEqualTo(21);
    assertThat(registry.register("feedback.pairs-value", SCHEMA)).isEqualTo(21);
    assertThat(registry.byId(21)).isEqualTo(SCHEMA); // from the cache: no second request

    assertThat(seen).singleElement().satisfies(s -> {
      assertThat(s.method()).isEqualTo("POST");
      assertThat(s.path()).isEqualTo("/subjects/feedback.pairs-value/versions");
      assertThat(s.contentType()).isEqualTo(RestSchemaRegistry.CONTENT_TYPE);
      assertThat(s.authorization()).isEqualTo("Basic YWxpY2U6c2VjcmV0");
      assertThat(new Schema.Parser().parse(new com.fasterxml.jackson.databind.ObjectMapper().readTree(s.body()).get("schema").asText())).isEqualTo(SCHEMA);
    });
  }

  @Test
  void byId_fetchesSchemaOnce() {
    answers.add(new Answer(200, "{\"schema\":" + quoted(SCHEMA.toString()) + "}"));
    RestSchemaRegistry registry = client(Map.of());
    assertThat(registry.byId(3)).isEqualTo(SCHEMA);
    assertThat(registry.byId(3)).isEqualTo(SCHEMA);
    assertThat(seen).extracting(Seen::path).containsExactly("/schemas/ids/3");
  }

  @Test
  void latest_readsSubjectVersionIdAndSchema() {
    answers.add(new Answer(200, "{\"subject\":\"t-value\",\"version\":4,\"id\":9,\"schema\":" + quoted(SCHEMA.toString()) + "}"));
    assertThat(client(Map.of()).latest("t-value")).isEqualTo(new SchemaRegistry.Registered("t-value", 4, 9, SCHEMA));
    assertThat(seen.get(0).path()).isEqualTo("/subjects/t-value/versions/latest");
  }

  @Test
  void isCompatible_postsToTheCompatibilityEndpoint() {
    answers.add(new Answer(200, "{\"is_compatible\":false}"));
    assertThat(client(Map.of()).isCompatible("t-value", SCHEMA)).isFalse();
    assertThat(seen.get(0).path()).isEqualTo("/compatibility/subjects/t-value/versions/latest");
  }

  @Test
  void serverError_isRetriedThenSucceeds() {
    answers.add(new Answer(500, "{\"error_code\":50001,\"message\":\"Error in the backend data store\"}"));
    answers.add(new Answer(200, "{\"id\":5}"));
    assertThat(client(Map.of()).register("t-value", SCHEMA)).isEqualTo(5);
    assertThat(seen).hasSize(2);
  }

  @Test
  void serverErrorEveryTime_isRetriedWithBackoffUntilTheBound_thenUnavailable() {
    // the server answers 500 "no answer queued" to every call
    assertThatThrownBy(() -> client(Map.of(SerdeConfig.REGISTRY_RETRY_MAX_MS, "1000")).register("t-value", SCHEMA))
        .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.unavailable()).isTrue())
        .hasMessageContaining("gave no answer in 1000 ms").hasMessageContaining("HTTP 500").hasMessageContaining("50001");
    assertThat(seen).hasSizeBetween(3, 6); // backoff 200, 400, 800 ms: no busy loop
  }

  @Test
  void rateLimited_isRetriedThenSucceeds() {
    answers.add(new Answer(429, "{\"error_code\":42901,\"message\":\"Request rate limit exceeded\"}"));
    answers.add(new Answer(200, "{\"id\":5}"));
    assertThat(client(Map.of()).register("t-value", SCHEMA)).isEqualTo(5);
    assertThat(seen).hasSize(2);
  }

  @Test
  void unauthorizedEveryTime_isRetriedUntilTheBound_thenUnavailable_notTheValuesFault() {
    for (int i = 0; i < 10; i++) answers.add(new Answer(401, "{\"error_code\":401,\"message\":\"Unauthorized\"}"));
    var deserializer = new RecordDeserializer<>(PreferencePair.class);
    deserializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "http://127.0.0.1:" + server.getAddress().getPort(), SerdeConfig.REGISTRY_RETRY_MAX_MS, "300"), false);
    assertThatThrownBy(() -> deserializer.deserialize("feedback.pairs", WireFormat.frame(1, new byte[] {2, 'e'})))
        .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.unavailable()).isTrue())
        .hasMessageContaining("HTTP 401").hasMessageContaining("gave no answer in 300 ms");
    assertThat(seen).hasSizeGreaterThan(1);
  }

  @Test
  void notFound_failsAtOnceWithTheRegistrysCode() {
    answers.add(new Answer(404, "{\"error_code\":40401,\"message\":\"Subject 't-value' not found.\"}"));
    assertThatThrownBy(() -> client(Map.of()).latest("t-value"))
        .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
          assertThat(e.status()).isEqualTo(404);
          assertThat(e.errorCode()).isEqualTo(40401);
        })
        .hasMessageContaining("Subject 't-value' not found.");
    assertThat(seen).hasSize(1);
  }

  @Test
  void conflict_reportsIncompatibleSchema() {
    answers.add(new Answer(409, "{\"error_code\":409,\"message\":\"Schema being registered is incompatible with an earlier schema\"}"));
    assertThatThrownBy(() -> client(Map.of()).register("t-value", SCHEMA))
        .isInstanceOf(SchemaRegistryException.class).hasMessageContaining("incompatible");
  }

  @Test
  void unprocessable_reportsInvalidSchema() {
    answers.add(new Answer(422, "{\"error_code\":42201,\"message\":\"Invalid schema\"}"));
    assertThatThrownBy(() -> client(Map.of()).register("t-value", SCHEMA))
        .isInstanceOf(SchemaRegistryException.class).hasMessageContaining("42201").hasMessageContaining("Invalid schema");
  }

  @Test
  void registryDown_failsWithItsAddress() throws IOException {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    var registry = new RestSchemaRegistry(SerdeConfig.parse(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "http://127.0.0.1:" + closedPort,
        SerdeConfig.REGISTRY_RETRY_MAX_MS, "300")));
    assertThatThrownBy(() -> registry.byId(1))
        .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.unavailable()).isTrue())
        .hasMessageContaining("unreachable").hasMessageContaining("127.0.0.1:" + closedPort);
  }

  @Test
  void deserializer_withRegistryDown_saysTheRegistryIsUnavailable_notThatTheValueIsBad() throws IOException {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    var deserializer = new RecordDeserializer<>(PreferencePair.class);
    deserializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "http://127.0.0.1:" + closedPort, SerdeConfig.REGISTRY_RETRY_MAX_MS, "300"), false);
    assertThatThrownBy(() -> deserializer.deserialize("feedback.pairs", WireFormat.frame(1, new byte[] {2, 'e'})))
        .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.unavailable()).isTrue())
        .hasMessageContaining("topic feedback.pairs").hasMessageContaining("schema id 1").hasMessageContaining("unreachable");
  }

  @Test
  void basicAuthOverPlainHttp_logsAWarning_withoutTheSecret() {
    var logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(RestSchemaRegistry.class);
    var logged = new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
    logged.start();
    logger.addAppender(logged);
    try {
      client(Map.of(SerdeConfig.BASIC_AUTH_USER_INFO, "alice:secret"));
      client(Map.of()); // no credentials: nothing to warn about
    } finally {
      logger.detachAppender(logged);
    }
    assertThat(logged.list).singleElement().satisfies(e -> {
      assertThat(e.getLevel()).isEqualTo(ch.qos.logback.classic.Level.WARN);
      assertThat(e.getFormattedMessage()).contains("plain http", "https://").doesNotContain("secret");
    });
  }

  private static String quoted(String s) {
    return com.fasterxml.jackson.databind.node.TextNode.valueOf(s).toString();
  }
}
