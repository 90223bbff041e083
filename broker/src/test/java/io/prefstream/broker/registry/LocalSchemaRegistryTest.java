package io.prefstream.broker.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.serde.AvroSerializer;
import io.prefstream.schemas.serde.RecordDeserializer;
import io.prefstream.schemas.serde.SchemaRegistry;
import io.prefstream.schemas.serde.SchemaRegistryException;
import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.testkit.KafkaBroker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The local registry through prefstream's own REST client and serde, and raw HTTP for the rest of the API. */
class LocalSchemaRegistryTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final Schema V1 = PreferencePair.getClassSchema();
  /** V1 plus an optional field: BACKWARD compatible. */
  private static final Schema V2 = withField(SchemaBuilder.builder().unionOf().nullType().and().stringType().endUnion(), true);
  /** V1 plus a required field: not BACKWARD compatible (V2 cannot read what V1 wrote). */
  private static final Schema INCOMPATIBLE = withField(SchemaBuilder.builder().stringType(), false);

  private final String subject = "feedback.pairs-" + UUID.randomUUID() + "-value";
  private final HttpClient http = HttpClient.newHttpClient();

  private static Schema withField(Schema type, boolean optional) {
    String json = V1.toString();
    String field = "{\"name\":\"extra\",\"type\":" + type + (optional ? ",\"default\":null" : "") + "}";
    return new Schema.Parser().parse(json.replaceFirst("\"fields\":\\[", "\"fields\":[" + field + ","));
  }

  private static SchemaRegistry client(LocalSchemaRegistry registry) {
    return SchemaRegistry.of(SerdeConfig.parse(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registry.url(), SerdeConfig.REGISTRY_RETRY_MAX_MS, "0")));
  }

  private HttpResponse<String> call(LocalSchemaRegistry registry, String method, String path, String body) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(registry.url() + path)).header("Content-Type", LocalSchemaRegistry.CONTENT_TYPE)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void registerLookUpEvolve_andIdsSurviveARestart() throws Exception {
    int id1;
    int id2;
    try (LocalSchemaRegistry registry = LocalSchemaRegistry.start(broker.bootstrapServers(), "127.0.0.1", 0)) {
      SchemaRegistry client = client(registry);
      id1 = client.register(subject, V1);
      assertThat(client.register(subject, V1)).isEqualTo(id1);
      assertThat(client.byId(id1)).isEqualTo(V1);
      id2 = client.register(subject, V2);
      assertThat(id2).isNotEqualTo(id1);
      assertThat(client.latest(subject)).isEqualTo(new SchemaRegistry.Registered(subject, 2, id2, V2));
      assertThat(client.isCompatible(subject, INCOMPATIBLE)).isFalse();
      assertThatThrownBy(() -> client.register(subject, INCOMPATIBLE))
          .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.status()).isEqualTo(409));
      assertThatThrownBy(() -> client.byId(999_999))
          .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40403));

      assertThat(call(registry, "GET", "/subjects", null).body()).contains("\"" + subject + "\"");
      assertThat(call(registry, "GET", "/subjects/" + subject + "/versions", null).body()).isEqualTo("[1,2]");
      assertThat(call(registry, "GET", "/subjects/" + subject + "/versions/1", null).body()).contains("\"id\":" + id1, "\"version\":1");
      assertThat(call(registry, "GET", "/subjects/" + subject + "/versions/7", null).body()).contains("40402");
      assertThat(call(registry, "GET", "/subjects/nobody-value/versions/latest", null).body()).contains("40401");
      String lookUp = call(registry, "POST", "/subjects/" + subject, "{\"schema\":" + quoted(V1.toString()) + "}").body();
      assertThat(lookUp).contains("\"version\":1", "\"id\":" + id1);
      assertThat(call(registry, "GET", "/config", null).body()).isEqualTo("{\"compatibilityLevel\":\"BACKWARD\"}");
      assertThat(call(registry, "PUT", "/config/" + subject, "{\"compatibility\":\"NONE\"}").body()).isEqualTo("{\"compatibility\":\"NONE\"}");
      assertThat(call(registry, "GET", "/config/" + subject, null).body()).isEqualTo("{\"compatibilityLevel\":\"NONE\"}");
      assertThat(call(registry, "POST", "/subjects/" + subject + "/versions", "{\"schema\":\"{not avro\"}").statusCode()).isEqualTo(422);
    }

    try (LocalSchemaRegistry restarted = LocalSchemaRegistry.start(broker.bootstrapServers(), "127.0.0.1", 0)) {
      SchemaRegistry client = client(restarted);
      assertThat(client.byId(id1)).isEqualTo(V1);
      assertThat(client.latest(subject)).isEqualTo(new SchemaRegistry.Registered(subject, 2, id2, V2));
      assertThat(call(restarted, "GET", "/config/" + subject, null).body()).contains("NONE");
      int id3 = client.register(subject, INCOMPATIBLE); // allowed now: the subject's level is NONE
      assertThat(id3).isNotIn(id1, id2);

      // prefstream's serde through it: writer registers, reader fetches the schema by id
      Map<String, Object> serde = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, restarted.url());
      AvroSerializer<PreferencePair> writer = new AvroSerializer<>();
      writer.configure(serde, false);
      RecordDeserializer<PreferencePair> reader = new RecordDeserializer<>(PreferencePair.class);
      reader.configure(serde, false);
      PreferencePair pair = PreferencePair.newBuilder().setEventId("e").setPrompt("q").setChosen("a").setRejected("b").build();
      String topic = "topic-" + UUID.randomUUID();
      assertThat(reader.deserialize(topic, writer.serialize(topic, pair))).isEqualTo(pair);
    }
  }

  private static String quoted(String s) {
    return com.fasterxml.jackson.databind.node.TextNode.valueOf(s).toString();
  }
}
