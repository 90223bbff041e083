package io.prefstream.schemas.serde;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * The serde's settings, under the same keys as Confluent's Avro serde so that either can be
 * configured from one properties file.
 *
 * @param registryUrl {@code mock://<scope>} for the in-memory registry, else the REST base URL
 * @param basicAuthUserInfo {@code user:password} sent as HTTP basic auth, when set
 * @param registryRetryBound how long an unreachable or failing (5xx) registry is retried, with
 *     backoff, before the call fails with {@link SchemaRegistryException#unavailable()}
 * @param limits what one value may make the deserializer allocate
 */
public record SerdeConfig(
    String registryUrl,
    boolean autoRegisterSchemas,
    boolean useLatestVersion,
    Optional<String> basicAuthUserInfo,
    RegistryTls tls,
    Subjects.Strategy keySubjectStrategy,
    Subjects.Strategy valueSubjectStrategy,
    Duration registryRetryBound,
    DecodeLimits limits) {

  public static final String SCHEMA_REGISTRY_URL = "schema.registry.url";
  public static final String AUTO_REGISTER_SCHEMAS = "auto.register.schemas";
  public static final String USE_LATEST_VERSION = "use.latest.version";
  public static final String BASIC_AUTH_CREDENTIALS_SOURCE = "basic.auth.credentials.source";
  public static final String BASIC_AUTH_USER_INFO = "basic.auth.user.info";
  public static final String SPECIFIC_AVRO_READER = "specific.avro.reader";
  public static final String KEY_SUBJECT_NAME_STRATEGY = "key.subject.name.strategy";
  public static final String VALUE_SUBJECT_NAME_STRATEGY = "value.subject.name.strategy";
  public static final String REGISTRY_RETRY_MAX_MS = "schema.registry.retry.max.ms";
  public static final String MAX_STRING_BYTES = "limits.max.string.bytes";
  public static final String MAX_COLLECTION_ITEMS = "limits.max.collection.items";
  public static final String MAX_NESTING_DEPTH = "limits.max.nesting.depth";
  public static final String DEFAULT_REGISTRY_URL = "mock://prefstream";

  static final ConfigDef DEF =
      RegistryTls.define(new ConfigDef())
          .define(SCHEMA_REGISTRY_URL, Type.STRING, DEFAULT_REGISTRY_URL, Importance.HIGH,
              "Schema registry base URL, or mock://<scope> for an in-memory registry shared within the JVM per scope.")
          .define(AUTO_REGISTER_SCHEMAS, Type.BOOLEAN, true, Importance.MEDIUM,
              "Register the record's schema under <topic>-value (or -key) when serializing.")
          .define(USE_LATEST_VERSION, Type.BOOLEAN, false, Importance.MEDIUM,
              "Serialize with the id of the subject's latest schema instead of registering (needs auto.register.schemas=false).")
          .define(BASIC_AUTH_CREDENTIALS_SOURCE, Type.STRING, "USER_INFO",
              ConfigDef.ValidString.in("USER_INFO"), Importance.MEDIUM,
              "Where basic-auth credentials come from; USER_INFO reads basic.auth.user.info.")
          .define(BASIC_AUTH_USER_INFO, Type.PASSWORD, "", Importance.MEDIUM,
              "user:password for the registry's HTTP basic auth; empty for none.")
          .define(KEY_SUBJECT_NAME_STRATEGY, Type.STRING, "TopicNameStrategy", Importance.LOW,
              "Subject of key schemas: TopicNameStrategy (<topic>-key), RecordNameStrategy (<record name>) or TopicRecordNameStrategy (<topic>-<record name>); Confluent's class names are accepted too.")
          .define(VALUE_SUBJECT_NAME_STRATEGY, Type.STRING, "TopicNameStrategy", Importance.LOW,
              "Subject of value schemas, as for keys; TopicRecordNameStrategy lets one topic carry several record types.")
          .define(SPECIFIC_AVRO_READER, Type.BOOLEAN, true, Importance.LOW,
              "Read into the generated record classes. prefstream's deserializers are typed, so this must be true.")
          .define(REGISTRY_RETRY_MAX_MS, Type.LONG, 60_000L, Range.atLeast(0), Importance.MEDIUM,
              "How long an unreachable or failing (HTTP 5xx) schema registry is retried, with exponential backoff, before the call fails.")
          .define(MAX_STRING_BYTES, Type.INT, 16 << 20, Range.atLeast(1), Importance.LOW,
              "Longest string or bytes field a value may hold (Avro's string and bytes limits; for JSON, Jackson's maxStringLength).")
          .define(MAX_COLLECTION_ITEMS, Type.INT, 1_000_000, Range.atLeast(1), Importance.LOW,
              "Most items of one array or map in a value (Avro's collectionItems limit).")
          .define(MAX_NESTING_DEPTH, Type.INT, 64, Range.atLeast(1), Importance.LOW,
              "Deepest nesting of JSON objects and arrays (Jackson's maxNestingDepth).");

  public SerdeConfig {
    if (registryUrl.isBlank()) throw new ConfigException(SCHEMA_REGISTRY_URL, registryUrl, "must not be empty");
    if (useLatestVersion && autoRegisterSchemas) {
      throw new ConfigException(USE_LATEST_VERSION, true, "needs " + AUTO_REGISTER_SCHEMAS + "=false");
    }
  }

  public static SerdeConfig parse(Map<String, ?> props) {
    var c = new AbstractConfig(DEF, props, false);
    if (!c.getBoolean(SPECIFIC_AVRO_READER)) {
      throw new ConfigException(SPECIFIC_AVRO_READER, false, "prefstream's deserializers always return generated record classes");
    }
    Password userInfo = c.getPassword(BASIC_AUTH_USER_INFO);
    return new SerdeConfig(
        c.getString(SCHEMA_REGISTRY_URL),
        c.getBoolean(AUTO_REGISTER_SCHEMAS),
        c.getBoolean(USE_LATEST_VERSION),
        userInfo.value().isEmpty() ? Optional.empty() : Optional.of(userInfo.value()),
        RegistryTls.from(c),
        Subjects.Strategy.parse(KEY_SUBJECT_NAME_STRATEGY, c.getString(KEY_SUBJECT_NAME_STRATEGY)),
        Subjects.Strategy.parse(VALUE_SUBJECT_NAME_STRATEGY, c.getString(VALUE_SUBJECT_NAME_STRATEGY)),
        Duration.ofMillis(c.getLong(REGISTRY_RETRY_MAX_MS)),
        new DecodeLimits(c.getInt(MAX_STRING_BYTES), c.getInt(MAX_COLLECTION_ITEMS), c.getInt(MAX_NESTING_DEPTH)));
  }

  /** The embedded default: the in-memory registry of scope "prefstream". */
  public static SerdeConfig defaults() {
    return parse(Map.of());
  }

  boolean isMock() {
    return registryUrl.startsWith("mock://");
  }
}
