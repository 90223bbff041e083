package io.prefstream.broker.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A schema registry for local runs, on the part of Confluent's REST API (v1) that Confluent's
 * serializers and prefstream's use, so that separate processes on one machine share schema ids:
 *
 * <pre>
 *   POST /subjects/{s}/versions                  register       -> {"id"}
 *   POST /subjects/{s}                           look up        -> {"subject","version","id","schema"}
 *   GET  /schemas/ids/{id}                       by id          -> {"schema"}
 *   GET  /subjects                               subjects       -> ["s", ...]
 *   GET  /subjects/{s}/versions                  versions       -> [1, 2, ...]
 *   GET  /subjects/{s}/versions/{v|latest}       one version    -> {"subject","version","id","schema"}
 *   POST /compatibility/subjects/{s}/versions/{v|latest}        -> {"is_compatible"}
 *   GET|PUT /config[/{s}]                        compatibility  -> {"compatibilityLevel"} / {"compatibility"}
 * </pre>
 *
 * Avro only; errors as Confluent's ({@code error_code} 40401, 40402, 40403, 409, 42201, ...).
 * State lives in the compacted topic {@code _schemas} on the broker it serves (see
 * {@link SchemaLog}); one instance per cluster. Production points at Confluent Schema Registry,
 * Karapace or Apicurio instead.
 */
public final class LocalSchemaRegistry implements AutoCloseable {
  static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
  private static final Logger log = LoggerFactory.getLogger(LocalSchemaRegistry.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final RegistryState state = new RegistryState();
  private final SchemaLog store;
  private final HttpServer server;

  private LocalSchemaRegistry(String bootstrap, String host, int port) {
    store = SchemaLog.open(bootstrap, state);
    try {
      server = HttpServer.create(new InetSocketAddress(host, port), 0);
    } catch (IOException e) {
      store.close();
      throw new UncheckedIOException("cannot open the schema registry on " + host + ":" + port, e);
    }
    server.createContext("/", this::handle);
    server.start();
    log.info("schema registry on {}, {} subjects restored from {}", url(), state.subjects().size(), SchemaLog.TOPIC);
  }

  /** Starts a registry on {@code host:port} (0: a free port) over the broker at {@code bootstrap}. */
  public static LocalSchemaRegistry start(String bootstrap, String host, int port) {
    return new LocalSchemaRegistry(bootstrap, host, port);
  }

  /** The base URL clients set as {@code schema.registry.url}. */
  public String url() {
    return "http://" + server.getAddress().getHostString() + ":" + server.getAddress().getPort();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      int status = 200;
      JsonNode answer;
      try {
        List<String> path = Arrays.stream(exchange.getRequestURI().getRawPath().split("/")).filter(s -> !s.isEmpty())
            .map(s -> URLDecoder.decode(s, StandardCharsets.UTF_8)).toList();
        JsonNode body = exchange.getRequestMethod().equals("GET") ? JSON.nullNode() : readBody(exchange);
        synchronized (state) {
          answer = route(exchange.getRequestMethod(), path, body);
        }
      } catch (RegistryError e) {
        status = e.status;
        answer = JSON.createObjectNode().put("error_code", e.errorCode).put("message", e.getMessage());
      } catch (RuntimeException e) {
        log.error("schema registry: {} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
        status = 500;
        answer = JSON.createObjectNode().put("error_code", 50001).put("message", e.toString());
      }
      byte[] out = answer.toString().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", CONTENT_TYPE);
      exchange.sendResponseHeaders(status, out.length);
      try (OutputStream o = exchange.getResponseBody()) {
        o.write(out);
      }
    }
  }

  private static JsonNode readBody(HttpExchange exchange) throws IOException {
    byte[] bytes = exchange.getRequestBody().readAllBytes();
    if (bytes.length == 0) return JSON.createObjectNode();
    try {
      return JSON.readTree(bytes);
    } catch (IOException e) {
      throw new RegistryError(422, 42201, "the request body is not JSON: " + e.getMessage());
    }
  }

  private static final Set<String> LITERALS = Set.of("subjects", "versions", "schemas", "ids", "compatibility", "config");

  private JsonNode route(String method, List<String> p, JsonNode body) {
    String shape = method + " /" + String.join("/", p.stream().map(s -> LITERALS.contains(s) ? s : "*").toList());
    return switch (shape) {
      case "GET /subjects" -> strings(state.subjects());
      case "POST /subjects/*/versions" -> register(p.get(1), body);
      case "POST /subjects/*" -> lookUp(p.get(1), body);
      case "GET /subjects/*/versions" -> numbers(state.versions(p.get(1)).stream().map(RegistryState.Version::version).toList());
      case "GET /subjects/*/versions/*" -> version(state.version(p.get(1), p.get(3)));
      case "GET /schemas/ids/*" -> JSON.createObjectNode().put("schema", state.byId(id(p.get(2))).toString());
      case "POST /compatibility/subjects/*/versions/*" ->
          JSON.createObjectNode().put("is_compatible", state.isCompatible(p.get(2), schema(body), p.get(4)));
      case "GET /config" -> JSON.createObjectNode().put("compatibilityLevel", state.level(null).name());
      case "GET /config/*" -> JSON.createObjectNode().put("compatibilityLevel", state.level(p.get(1)).name());
      case "PUT /config" -> setLevel(null, body);
      case "PUT /config/*" -> setLevel(p.get(1), body);
      default -> throw new RegistryError(404, 404, "no such endpoint: " + method + " /" + String.join("/", p));
    };
  }

  private JsonNode register(String subject, JsonNode body) {
    RegistryState.Version v = state.next(subject, schema(body));
    if (state.find(subject, v.schema()).isEmpty()) {
      store.append(v); // the log first: what is not in it does not survive a restart
      state.apply(v);
      log.info("registered {} version {} as id {}", subject, v.version(), v.id());
    }
    return JSON.createObjectNode().put("id", v.id());
  }

  private JsonNode lookUp(String subject, JsonNode body) {
    Schema schema = schema(body);
    state.versions(subject); // 40401 for an unknown subject
    return version(state.find(subject, schema).orElseThrow(() -> RegistryError.schemaNotFound("under subject '" + subject + "'")));
  }

  private JsonNode setLevel(String subject, JsonNode body) {
    Compatibility level = Compatibility.parse(body.path("compatibility").asText(null));
    store.appendLevel(subject, level);
    state.applyLevel(subject, level);
    return JSON.createObjectNode().put("compatibility", level.name());
  }

  private static Schema schema(JsonNode body) {
    String type = body.path("schemaType").asText("AVRO");
    if (!type.equals("AVRO")) throw new RegistryError(422, 42201, "schemaType " + type + " is not supported here; Avro only");
    if (!body.path("schema").isTextual()) throw new RegistryError(422, 42201, "the request needs a 'schema' string");
    return RegistryState.parse(body.path("schema").asText());
  }

  private static int id(String id) {
    try {
      return Integer.parseInt(id);
    } catch (NumberFormatException e) {
      throw RegistryError.schemaNotFound("id " + id);
    }
  }

  private static ObjectNode version(RegistryState.Version v) {
    return JSON.createObjectNode().put("subject", v.subject()).put("version", v.version()).put("id", v.id()).put("schema", v.schema().toString());
  }

  private static ArrayNode strings(List<String> values) {
    ArrayNode a = JSON.createArrayNode();
    values.forEach(a::add);
    return a;
  }

  private static ArrayNode numbers(List<Integer> values) {
    ArrayNode a = JSON.createArrayNode();
    values.forEach(a::add);
    return a;
  }

  @Override
  public void close() {
    server.stop(0);
    store.close();
  }
}
