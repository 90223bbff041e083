package io.prefstream.ingest;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
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
    UnpairedRatings unpaired,
    Duration dedupHorizon,
    Duration commitWhenIdle,
    int metricsPort,
    String metricsHost,
    Map<String, Object> passThrough) {

  public static final String FEEDBACK_PAIRS_TOPIC = "feedback.pairs.topic";
  public static final String FEEDBACK_RATINGS_TOPIC = "feedback.ratings.topic";
  public static final String FEEDBACK_RANKINGS_TOPIC = "feedback.rankings.topic";
  public static final String PREFERENCE_PAIRS_TOPIC = "preference.pairs.topic";
  public static final String DLQ_TOPIC = "dlq.topic";
  public static final String MAX_RECORD_BYTES = "limits.max.record.bytes";
  public static final String MAX_ID_BYTES = "limits.max.id.bytes";
  public static final String MAX_TEXT_BYTES = "limits.max.text.bytes";
  public static final String MAX_TOKENS = "limits.max.tokens";
  public static final String MAX_FUTURE_SKEW_MS = "limits.max.future.skew.ms";
  public static final String MAX_AGE_MS = "limits.max.age.ms";
  public static final String MAX_WEIGHT = "limits.max.weight";
  public static final String RATINGS_WINDOW_MS = "ratings.window.ms";
  public static final String RATINGS_GRACE_MS = "ratings.grace.ms";
  public static final String RATINGS_MAX_PAIRS = "ratings.max.pairs.per.prompt";
  public static final String RATINGS_MAX_PER_PROMPT = "ratings.max.per.prompt";
  public static final String RATINGS_UNPAIRED = "ratings.unpaired";
  public static final String RATINGS_UNPAIRED_DESIRABLE_MIN_STARS = "ratings.unpaired.desirable.min.stars";
  public static final String RATINGS_UNPAIRED_UNDESIRABLE_MAX_STARS = "ratings.unpaired.undesirable.max.stars";
  public static final String DEDUP_HORIZON_MS = "dedup.horizon.ms";
  public static final String COMMIT_WHEN_IDLE_MS = "commit.when.idle.ms";
  public static final String METRICS_PORT = "metrics.port";
  public static final String METRICS_HOST = "metrics.host";
  /** Kafka Streams' own settings, with ingest's defaults; see {@link #DEF} for what each costs. */
  public static final String COMMIT_INTERVAL_MS = StreamsConfig.COMMIT_INTERVAL_MS_CONFIG;
  public static final String MAX_TASK_IDLE_MS = StreamsConfig.MAX_TASK_IDLE_MS_CONFIG;
  public static final String PRODUCER_BATCH_SIZE = StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG);
  public static final String PRODUCER_LINGER_MS = StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG);
  private static final List<String> STREAMS_TUNING = List.of(COMMIT_INTERVAL_MS, MAX_TASK_IDLE_MS, PRODUCER_BATCH_SIZE, PRODUCER_LINGER_MS);

  /**
   * Where Kafka Streams keeps ingest's state unless {@code state.dir} says otherwise: under the
   * user's home, not the OS temp folder that every process on the machine shares and cleaners empty.
   */
  public static final Path DEFAULT_STATE_DIR = Path.of(System.getProperty("user.home"), ".prefstream", "state");

  private static final long MINUTE = 60_000L;
  private static final int MAX_REQUEST_BYTES_DEFAULT = 1 << 20;
  /** The largest {@link #MAX_ID_BYTES}: what {@link #RECORD_HEADROOM_BYTES} allows for ids copied. */
  private static final int MAX_ID_BYTES_CEILING = 4096;

  /**
   * Room a producer request keeps beyond {@link #MAX_RECORD_BYTES}, so that every record ingest
   * writes for an accepted one fits: the producer's batch and record overhead (about 100 bytes),
   * the prompt id as the key and a missing one as a hash in the value, a rating's
   * {@code prefstream.source.*} metadata, the ids a labelled response or a rating pair copies (at
   * most eight ids of {@link #MAX_ID_BYTES_CEILING}), and the null fields that Avro encodes and
   * JSON may leave out: under 40 KiB together.
   */
  public static final int RECORD_HEADROOM_BYTES = 64 * 1024;

  static final ConfigDef DEF = new ConfigDef()
      .define(FEEDBACK_PAIRS_TOPIC, Type.STRING, "feedback.pairs", Importance.HIGH, "Input: preference pairs.")
      .define(FEEDBACK_RATINGS_TOPIC, Type.STRING, "feedback.ratings", Importance.HIGH, "Input: single-response ratings.")
      .define(FEEDBACK_RANKINGS_TOPIC, Type.STRING, "feedback.rankings", Importance.HIGH, "Input: ranked responses.")
      .define(PREFERENCE_PAIRS_TOPIC, Type.STRING, "preference.pairs", Importance.HIGH, "Output: validated pairs and rankings.")
      .define(DLQ_TOPIC, Type.STRING, "preference.dlq", Importance.HIGH, "Output: rejected records with the reason in headers.")
      .define(MAX_RECORD_BYTES, Type.INT, MAX_REQUEST_BYTES_DEFAULT - RECORD_HEADROOM_BYTES, Range.atLeast(1), Importance.MEDIUM,
          "Largest input record (key and value) in bytes; a larger one goes to the DLQ as too_large, unread, its copy cut to fit the producer's "
              + "max.request.size. With the headroom of " + RECORD_HEADROOM_BYTES + " bytes it must fit the producer's max.request.size, so that "
              + "whatever ingest writes for an accepted record can be written.")
      .define(MAX_ID_BYTES, Type.INT, 1024, Range.between(1, MAX_ID_BYTES_CEILING), Importance.MEDIUM,
          "Longest event, prompt, response or rater id in UTF-8 bytes; a longer one goes to the DLQ as too_long. Ids are copied into keys "
              + "and metadata, so the headroom bounds this.")
      .define(MAX_TEXT_BYTES, Type.INT, 65_536, Range.atLeast(1), Importance.MEDIUM, "Largest prompt or response text in UTF-8 bytes.")
      .define(MAX_TOKENS, Type.INT, 8_192, Range.atLeast(1), Importance.MEDIUM, "Largest prompt or response token list.")
      .define(MAX_FUTURE_SKEW_MS, Type.LONG, 60 * MINUTE, Range.atLeast(0), Importance.MEDIUM, "How far ahead of the ingest clock an event time may be.")
      .define(MAX_AGE_MS, Type.LONG, 30 * 24 * 60 * MINUTE, Range.atLeast(0), Importance.MEDIUM, "How far behind the ingest clock an event time may be.")
      .define(MAX_WEIGHT, Type.DOUBLE, 100.0, Importance.MEDIUM, "Largest weight of a pair or ranking; a weight outside (0, this] goes to the DLQ as bad_weight.")
      .define(RATINGS_WINDOW_MS, Type.LONG, MINUTE, Range.atLeast(1), Importance.MEDIUM, "Ratings of one prompt within a window of this size pair up.")
      .define(RATINGS_GRACE_MS, Type.LONG, 10_000L, Range.atLeast(0), Importance.MEDIUM, "Ratings may arrive this late after their window ends; later ones go to the DLQ as late_rating.")
      .define(RATINGS_MAX_PAIRS, Type.INT, 10, Range.atLeast(1), Importance.MEDIUM, "Most pairs one prompt's window yields.")
      .define(RATINGS_MAX_PER_PROMPT, Type.INT, 100, Range.atLeast(2), Importance.MEDIUM, "Most ratings one prompt's window holds; more go to the DLQ as too_many_ratings.")
      .define(RATINGS_UNPAIRED, Type.BOOLEAN, false, Importance.MEDIUM,
          "true: each THUMBS rating, and each STARS_5 rating past the thresholds below, becomes a LabelledResponse (desirable or not) on the pairs topic for KTO, instead of pairing up.")
      .define(RATINGS_UNPAIRED_DESIRABLE_MIN_STARS, Type.DOUBLE, 4.0, Range.between(1, 5), Importance.LOW, "With ratings.unpaired: STARS_5 scores at or above this are desirable.")
      .define(RATINGS_UNPAIRED_UNDESIRABLE_MAX_STARS, Type.DOUBLE, 2.0, Range.between(1, 5), Importance.LOW, "With ratings.unpaired: STARS_5 scores at or below this are undesirable; those between pair up.")
      .define(DEDUP_HORIZON_MS, Type.LONG, 60 * MINUTE, Range.atLeast(1), Importance.MEDIUM, "A repeated event id within this time is dropped as a duplicate.")
      .define(COMMIT_WHEN_IDLE_MS, Type.LONG, 100L, Range.atLeast(0), Importance.MEDIUM,
          "Ingest commits its transaction as soon as an input partition has been quiet for this long (checked every this often), "
              + "before commit.interval.ms is up: the end of a burst becomes readable on preference.pairs within about twice this "
              + "rather than half commit.interval.ms on average. A steady flow never leaves a quiet tick, so it adds no commits there; 0 turns it off.")
      .define(METRICS_PORT, Type.INT, 9464, Range.atLeast(-1), Importance.LOW, "Port of the Prometheus endpoint /metrics; -1 turns it off, 0 picks a free one.")
      .define(METRICS_HOST, Type.STRING, "127.0.0.1", Importance.LOW, "Address the Prometheus endpoint binds to: 127.0.0.1 (this machine only) by default; 0.0.0.0 for every interface, as in the Docker image.")
      .define(COMMIT_INTERVAL_MS, Type.LONG, 1_000L, Range.atLeast(1), Importance.MEDIUM,
          "Kafka Streams' commit.interval.ms: how often ingest commits its exactly-once transaction (Kafka Streams' exactly-once default: 100). "
              + "Valid records become readable (read_committed) on preference.pairs only at a commit, so this is most of the end-to-end latency "
              + "(p50 about half of it); each commit flushes the producer and waits for the transaction's markers, which took a quarter of the "
              + "stream thread's time at 100 ms in bench ingest and a twentieth at 1000 ms.")
      .define(MAX_TASK_IDLE_MS, Type.LONG, -1L, Range.atLeast(-1), Importance.LOW,
          "Kafka Streams' max.task.idle.ms. Every ingest task reads one partition, so there is nothing to wait for and -1 (never idle) only "
              + "saves Kafka Streams' per-loop check of the empty tasks' other partitions.")
      .define(PRODUCER_BATCH_SIZE, Type.INT, 16_384, Range.atLeast(0), Importance.LOW,
          "The batch.size of ingest's producer: bytes per partition per produce request.")
      .define(PRODUCER_LINGER_MS, Type.LONG, 100L, Range.atLeast(0), Importance.LOW,
          "The linger.ms of ingest's producer (Kafka Streams' default). Each commit flushes the producer, so records wait at most this or the "
              + "commit, whichever comes first.");

  public IngestConfig {
    passThrough = Map.copyOf(passThrough);
  }

  private static UnpairedRatings unpaired(AbstractConfig c) {
    try {
      return new UnpairedRatings(c.getBoolean(RATINGS_UNPAIRED), c.getDouble(RATINGS_UNPAIRED_DESIRABLE_MIN_STARS), c.getDouble(RATINGS_UNPAIRED_UNDESIRABLE_MAX_STARS));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("ratings.unpaired settings: " + e.getMessage());
    }
  }

  public static IngestConfig parse(Map<String, ?> props) {
    var c = new AbstractConfig(DEF, props, false);
    Map<String, Object> passThrough = new HashMap<>(props);
    DEF.names().forEach(passThrough::remove);
    STREAMS_TUNING.forEach(name -> passThrough.put(name, c.values().get(name)));
    int maxRequestBytes = maxRequestBytes(passThrough);
    if ((long) c.getInt(MAX_RECORD_BYTES) + RECORD_HEADROOM_BYTES > maxRequestBytes) {
      throw new ConfigException(MAX_RECORD_BYTES + " (" + c.getInt(MAX_RECORD_BYTES) + ") plus ingest's headroom of " + RECORD_HEADROOM_BYTES
          + " bytes exceeds the producer's max.request.size (" + maxRequestBytes + "): an accepted record could not be written. Set "
          + MAX_RECORD_BYTES + " to at most " + (maxRequestBytes - RECORD_HEADROOM_BYTES) + " or raise producer.max.request.size (and the "
          + "output topics' max.message.bytes with it)");
    }
    return new IngestConfig(
        new IngestTopics(c.getString(FEEDBACK_PAIRS_TOPIC), c.getString(FEEDBACK_RATINGS_TOPIC),
            c.getString(FEEDBACK_RANKINGS_TOPIC), c.getString(PREFERENCE_PAIRS_TOPIC), c.getString(DLQ_TOPIC)),
        new ValidationLimits(c.getInt(MAX_RECORD_BYTES), c.getInt(MAX_ID_BYTES), c.getInt(MAX_TEXT_BYTES), c.getInt(MAX_TOKENS),
            Duration.ofMillis(c.getLong(MAX_FUTURE_SKEW_MS)), Duration.ofMillis(c.getLong(MAX_AGE_MS)), c.getDouble(MAX_WEIGHT)),
        new RatingPairing(Duration.ofMillis(c.getLong(RATINGS_WINDOW_MS)), Duration.ofMillis(c.getLong(RATINGS_GRACE_MS)), c.getInt(RATINGS_MAX_PAIRS),
            c.getInt(RATINGS_MAX_PER_PROMPT), windowBudget(maxRequestBytes)),
        unpaired(c),
        Duration.ofMillis(c.getLong(DEDUP_HORIZON_MS)),
        Duration.ofMillis(c.getLong(COMMIT_WHEN_IDLE_MS)),
        c.getInt(METRICS_PORT),
        c.getString(METRICS_HOST),
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
    p.putIfAbsent(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterWriteHandler.class.getName());
    p.put(DeadLetterWriteHandler.DLQ_TOPIC, topics.dlq());
    return p;
  }

  /**
   * The largest request ingest's producer sends ({@code max.request.size}, also under the
   * {@code producer.} prefix): dead letters are cut to fit it.
   */
  public int maxRequestBytes() {
    return maxRequestBytes(passThrough);
  }

  private static int maxRequestBytes(Map<String, Object> passThrough) {
    Object size = passThrough.getOrDefault(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG),
        passThrough.getOrDefault(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_REQUEST_BYTES_DEFAULT));
    return Integer.parseInt(size.toString().trim());
  }

  /**
   * The most bytes one prompt's window of ratings may store: half a request less the headroom. The
   * suppress buffer's changelog record holds a window's value before and after each rating, so two
   * values must fit one request.
   */
  private static int windowBudget(int maxRequestBytes) {
    return (maxRequestBytes - RECORD_HEADROOM_BYTES) / 2;
  }

  /** The folder of this application's local state: {@code state.dir}/{@code application.id}. */
  public Path stateDir() {
    Map<String, Object> p = streamsProperties();
    return Path.of(p.get(StreamsConfig.STATE_DIR_CONFIG).toString(), p.get(StreamsConfig.APPLICATION_ID_CONFIG).toString());
  }
}
