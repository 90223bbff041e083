package io.prefstream.ingest;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The ingest service's settings, parsed once from its properties file. Every other property (Kafka
 * Streams, client security such as SASL/TLS, the serde's {@code schema.registry.*}) passes through
 * to Kafka Streams and the serdes as it is.
 */
public record IngestConfig(
    IngestTopics topics,
    ValidationLimits limits,
    RatingPairing pairing,
    Duration dedupHorizon,
    int metricsPort,
    Map<String, Object> passThrough) {

  public static final String FEEDBACK_PAIRS_TOPIC = "feedback.pairs.topic";
  public static final String FEEDBACK_RATINGS_TOPIC = "feedback.ratings.topic";
  public static final String FEEDBACK_RANKINGS_TOPIC = "feedback.rankings.topic";
  public static final String PREFERENCE_PAIRS_TOPIC = "preference.pairs.topic";
  public static final String DLQ_TOPIC = "dlq.topic";
  public static final String MAX_TEXT_BYTES = "limits.max.text.bytes";
  public static final String MAX_TOKENS = "limits.max.tokens";
  public static final String MAX_FUTURE_SKEW_MS = "limits.max.future.skew.ms";
  public static final String MAX_AGE_MS = "limits.max.age.ms";
  public static final String RATINGS_WINDOW_MS = "ratings.window.ms";
  public static final String RATINGS_GRACE_MS = "ratings.grace.ms";
  public static final String RATINGS_MAX_PAIRS = "ratings.max.pairs.per.prompt";
  public static final String DEDUP_HORIZON_MS = "dedup.horizon.ms";
  public static final String METRICS_PORT = "metrics.port";

  /**
   * Where Kafka Streams keeps ingest's state unless {@code state.dir} says otherwise: under the
   * user's home, not the OS temp folder that every process on the machine shares and cleaners empty.
   */
  public static final Path DEFAULT_STATE_DIR = Path.of(System.getProperty("user.home"), ".prefstream", "state");

  private static final long MINUTE = 60_000L;

  static final ConfigDef DEF = new ConfigDef()
      .define(FEEDBACK_PAIRS_TOPIC, Type.STRING, "feedback.pairs", Importance.HIGH, "Input: preference pairs.")
      .define(FEEDBACK_RATINGS_TOPIC, Type.STRING, "feedback.ratings", Importance.HIGH, "Input: single-response ratings.")
      .define(FEEDBACK_RANKINGS_TOPIC, Type.STRING, "feedback.rankings", Importance.HIGH, "Input: ranked responses.")
      .define(PREFERENCE_PAIRS_TOPIC, Type.STRING, "preference.pairs", Importance.HIGH, "Output: validated pairs and rankings.")
      .define(DLQ_TOPIC, Type.STRING, "preference.dlq", Importance.HIGH, "Output: rejected records with the reason in headers.")
      .define(MAX_TEXT_BYTES, Type.INT, 65_536, Range.atLeast(1), Importance.MEDIUM, "Largest prompt or response text in UTF-8 bytes.")
      .define(MAX_TOKENS, Type.INT, 8_192, Range.atLeast(1), Importance.MEDIUM, "Largest prompt or response token list.")
      .define(MAX_FUTURE_SKEW_MS, Type.LONG, 60 * MINUTE, Range.atLeast(0), Importance.MEDIUM, "How far ahead of the ingest clock an event time may be.")
      .define(MAX_AGE_MS, Type.LONG, 30 * 24 * 60 * MINUTE, Range.atLeast(0), Importance.MEDIUM, "How far behind the ingest clock an event time may be.")
      .define(RATINGS_WINDOW_MS, Type.LONG, MINUTE, Range.atLeast(1), Importance.MEDIUM, "Ratings of one prompt within a window of this size pair up.")
      .define(RATINGS_GRACE_MS, Type.LONG, 10_000L, Range.atLeast(0), Importance.MEDIUM, "Ratings may arrive this late after their window ends; later ones go to the DLQ as late_rating.")
      .define(RATINGS_MAX_PAIRS, Type.INT, 10, Range.atLeast(1), Importance.MEDIUM, "Most pairs one prompt's window yields.")
      .define(DEDUP_HORIZON_MS, Type.LONG, 60 * MINUTE, Range.atLeast(1), Importance.MEDIUM, "A repeated event id within this time is dropped as a duplicate.")
      .define(METRICS_PORT, Type.INT, 9464, Range.atLeast(-1), Importance.LOW, "Port of the Prometheus endpoint /metrics; -1 turns it off, 0 picks a free one.");

  public IngestConfig {
    passThrough = Map.copyOf(passThrough);
  }

  public static IngestConfig parse(Map<String, ?> props) {
    var c = new AbstractConfig(DEF, props, false);
    Map<String, Object> passThrough = new HashMap<>(props);
    DEF.names().forEach(passThrough::remove);
    return new IngestConfig(
        new IngestTopics(c.getString(FEEDBACK_PAIRS_TOPIC), c.getString(FEEDBACK_RATINGS_TOPIC),
            c.getString(FEEDBACK_RANKINGS_TOPIC), c.getString(PREFERENCE_PAIRS_TOPIC), c.getString(DLQ_TOPIC)),
        new ValidationLimits(c.getInt(MAX_TEXT_BYTES), c.getInt(MAX_TOKENS),
            Duration.ofMillis(c.getLong(MAX_FUTURE_SKEW_MS)), Duration.ofMillis(c.getLong(MAX_AGE_MS))),
        new RatingPairing(Duration.ofMillis(c.getLong(RATINGS_WINDOW_MS)), Duration.ofMillis(c.getLong(RATINGS_GRACE_MS)), c.getInt(RATINGS_MAX_PAIRS)),
        Duration.ofMillis(c.getLong(DEDUP_HORIZON_MS)),
        c.getInt(METRICS_PORT),
        passThrough);
  }

  /**
   * Kafka Streams' properties: the pass-through ones, exactly-once v2 and state under
   * {@link #DEFAULT_STATE_DIR} unless set otherwise.
   */
  public Map<String, Object> streamsProperties() {
    Map<String, Object> p = new HashMap<>(passThrough);
    p.putIfAbsent(StreamsConfig.APPLICATION_ID_CONFIG, "prefstream-ingest");
    p.putIfAbsent(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.putIfAbsent(StreamsConfig.STATE_DIR_CONFIG, DEFAULT_STATE_DIR.toString());
    return p;
  }

  /** The folder of this application's local state: {@code state.dir}/{@code application.id}. */
  public Path stateDir() {
    Map<String, Object> p = streamsProperties();
    return Path.of(p.get(StreamsConfig.STATE_DIR_CONFIG).toString(), p.get(StreamsConfig.APPLICATION_ID_CONFIG).toString());
  }
}
