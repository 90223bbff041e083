package io.prefstream.schemas.serde;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of Confluent's schema registry REST API (v1), with a schema-id cache.
 *
 * <p>Connection failures and the answers that are not the request's fault (5xx, 401, 403, 407, 408,
 * 429: see {@link SchemaRegistryException#unavailable()}) are retried with exponential backoff for
 * {@code schema.registry.retry.max.ms}, then fail as unavailable; other 4xx answers fail at once
 * with the registry's own error code and message.
 */
final class RestSchemaRegistry implements SchemaRegistry {
  static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Logger log = LoggerFactory.getLogger(RestSchemaRegistry.class);
  private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

  private final String baseUrl;
  private final HttpClient http;
  private final String authorization;
  private final Duration retryBound;
  private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
  /** Keyed by the schema itself (its hash is cached), not its JSON: the serializer asks once per record. */
  private final Map<SubjectSchema, Integer> idsBySubjectAndSchema = new ConcurrentHashMap<>();

  private record SubjectSchema(String subject, Schema schema) {}

  RestSchemaRegistry(SerdeConfig config) {
    this.baseUrl = config.registryUrl().replaceAll("/+$", "");
    this.http = HttpClient.newBuilder()
        .connectTimeout(Duration.ofSeconds(5))
        .sslContext(config.tls().sslContext())
        .build();
    this.authorization = config.basicAuthUserInfo()
        .map(u -> "Basic " + Base64.getEncoder().encodeToString(u.getBytes(StandardCharsets.UTF_8)))
        .orElse(null);
    this.retryBound = config.registryRetryBound();
    if (authorization != null && baseUrl.startsWith("http://")) {
      log.warn("basic-auth credentials for the schema registry go over plain http to {}: anyone on the path can read them; use https://", baseUrl);
    }
  }

  @Override
  public int register(String subject, Schema schema) {
    return idsBySubjectAndSchema.computeIfAbsent(new SubjectSchema(subject, schema), k -> {
      JsonNode answer = send("POST", "/subjects/" + encode(subject) + "/versions", schemaBody(schema));
      int id = answer.path("id").asInt();
      schemasById.putIfAbsent(id, schema);
      return id;
    });
  }

  @Override
  public Schema byId(int id) {
    return schemasById.computeIfAbsent(id, i -> parse(send("GET", "/schemas/ids/" + i, null).path("schema").asText()));
  }

  @Override
  public Registered latest(String subject) {
    JsonNode answer = send("GET", "/subjects/" + encode(subject) + "/versions/latest", null);
    Schema schema = parse(answer.path("schema").asText());
    int id = answer.path("id").asInt();
    schemasById.putIfAbsent(id, schema);
    return new Registered(answer.path("subject").asText(subject), answer.path("version").asInt(), id, schema);
  }

  @Override
  public boolean isCompatible(String subject, Schema schema) {
    return send("POST", "/compatibility/subjects/" + encode(subject) + "/versions/latest", schemaBody(schema))
        .path("is_compatible").asBoolean();
  }

  private JsonNode send(String method, String path, String body) {
    URI uri = URI.create(baseUrl + path);
    HttpRequest.Builder request = HttpRequest.newBuilder(uri)
        .timeout(REQUEST_TIMEOUT)
        .header("Accept", CONTENT_TYPE)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) request.header("Content-Type", CONTENT_TYPE);
    if (authorization != null) request.header("Authorization", authorization);

    SchemaRegistryException last;
    Duration backoff = FIRST_BACKOFF;
    long deadline = System.nanoTime() + retryBound.toNanos();
    for (int attempt = 1; ; attempt++) {
      try {
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        int status = response.statusCode();
        if (status / 100 == 2) return JSON.readTree(response.body());
        last = refusal(method, uri, status, response.body());
        if (!last.unavailable()) throw last;
      } catch (IOException e) {
        last = new SchemaRegistryException(0, 0,
            "schema registry at " + baseUrl + " is unreachable (" + method + " " + path + "): " + e, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SchemaRegistryException(0, 0, "interrupted while calling the schema registry at " + baseUrl, e);
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new SchemaRegistryException(last.status(), last.errorCode(), "schema registry at " + baseUrl + " gave no answer in "
            + retryBound.toMillis() + " ms (" + attempt + " attempts, " + SerdeConfig.REGISTRY_RETRY_MAX_MS + "); last: " + last.getMessage(), last);
      }
      if (attempt == 1) log.warn("schema registry at {} unavailable, retrying for up to {} ms: {}", baseUrl, retryBound.toMillis(), last.getMessage());
      pause(Duration.ofNanos(Math.min(backoff.toNanos(), left)));
      backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
    }
  }

  private static SchemaRegistryException refusal(String method, URI uri, int status, String body) {
    int errorCode = 0;
    String message = body;
    try {
      JsonNode error = JSON.readTree(body);
      errorCode = error.path("error_code").asInt();
      message = error.path("message").asText(body);
    } catch (IOException notJson) {
      // keep the raw body as the message
    }
    return new SchemaRegistryException(status, errorCode,
        "schema registry refused " + method + " " + uri + ": HTTP " + status
            + (errorCode == 0 ? "" : " error_code " + errorCode) + ": " + message, null);
  }

  private static void pause(Duration d) {
    try {
      Thread.sleep(d.toMillis()); // backoff between retries of a failed HTTP call
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String schemaBody(Schema schema) {
    return JSON.createObjectNode().put("schema", schema.toString()).toString();
  }

  private static Schema parse(String schema) {
    return new Schema.Parser().parse(schema);
  }

  private static String encode(String subject) {
    return URLEncoder.encode(subject, StandardCharsets.UTF_8);
  }
}
