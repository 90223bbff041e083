package io.prefstream.ingest;

import io.prefstream.schemas.LabelledResponse;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.schemas.ResponseRating;
import io.prefstream.schemas.serde.AvroSerializer;
import io.prefstream.schemas.serde.RecordDeserializer;
import io.prefstream.schemas.serde.SerdeConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.Stores;

/**
 * The ingest topology:
 *
 * <pre>
 *   feedback.pairs    ─ admit ─┬─ valid ────────────────────────────────────────────┐
 *   feedback.rankings ─ admit ─┼─ valid ────────────────────────────────────────────┼─► preference.pairs
 *   feedback.ratings  ─ admit ─┼─ valid ─ by prompt ─ gate ─ window ─ pair up ───────┘
 *                              └─ too large, undeserializable, invalid, late, too many ─► preference.dlq
 * </pre>
 *
 * preference.pairs carries PreferencePair and RankedResponses under TopicRecordNameStrategy
 * subjects, keyed by prompt id.
 */
public final class IngestTopology {
  private IngestTopology() {}

  /** The topology for this configuration; {@code serdeProps} configure the Avro serdes. */
  public static Topology build(IngestConfig config, IngestMetrics metrics) {
    StreamsBuilder builder = new StreamsBuilder();
    add(builder, config, metrics);
    return builder.build();
  }

  /** What each prompt's window holds: see RatingWindowGate. */
  private static final String RATING_WINDOWS = "rating-windows";
  /** De-duplication buckets kept behind the newest, each a horizon long (see EventIdDedup). */
  static final int DEDUP_BUCKETS_KEPT = 3;

  static void add(StreamsBuilder builder, IngestConfig config, IngestMetrics metrics) {
    IngestTopics topics = config.topics();
    FeedbackRules rules = new FeedbackRules(config.limits());
    Map<String, Object> serdeProps = config.passThrough();

    Admission.Kind<PreferencePair> pairs = new Admission.Kind<>("pairs", deserializer(PreferencePair.class, serdeProps), rules::pair,
        PreferencePair::getEventId, PreferencePair::getPromptId, PreferencePair::getEventTime, "dedup-pairs", (r, m) -> r);
    Admission.Kind<RankedResponses> rankings = new Admission.Kind<>("rankings", deserializer(RankedResponses.class, serdeProps), rules::ranking,
        RankedResponses::getEventId, RankedResponses::getPromptId, RankedResponses::getEventTime, "dedup-rankings", (r, m) -> r);
    Admission.Kind<ResponseRating> ratings = new Admission.Kind<>("ratings", deserializer(ResponseRating.class, serdeProps), rules::rating,
        ResponseRating::getEventId, ResponseRating::getPromptId, ResponseRating::getEventTime, "dedup-ratings", IngestTopology::stampSource);

    Map<String, Object> preferenceProps = preferenceProps(serdeProps);
    AvroSerializer<SpecificRecord> preferenceSerializer = avroSerializer(preferenceProps);
    Serde<SpecificRecord> preferenceSerde = Serdes.serdeFrom(preferenceSerializer, preferenceDeserializer(preferenceProps));
    Produced<String, SpecificRecord> toPairs = Produced.with(Serdes.String(), preferenceSerde);

    for (Admission.Kind<?> kind : new Admission.Kind<?>[] {pairs, rankings, ratings}) {
      // event ids by horizon-long bucket (see EventIdDedup)
      builder.addStateStore(Stores.windowStoreBuilder(
          Stores.persistentWindowStore(kind.dedupStore(), config.dedupHorizon().multipliedBy(DEDUP_BUCKETS_KEPT), config.dedupHorizon(), false),
          Serdes.String(), Serdes.Long()));
    }
    RatingPairing pairing = config.pairing();
    Duration counted = pairing.window().plus(pairing.grace()); // what a window holds is needed until it closes
    builder.addStateStore(Stores.windowStoreBuilder(
        Stores.persistentWindowStore(RATING_WINDOWS, counted, pairing.window(), false), Serdes.String(), JsonSerde.of(RatingWindowGate.Held.class)));

    Produced<String, Admitted> acceptedToPairs = Produced.with(Serdes.String(), accepted(preferenceSerializer, preferenceSerde.deserializer()));
    passValid(admitted(builder, topics.feedbackPairs(), pairs, config, metrics), pairs, acceptedToPairs, config);
    passValid(admitted(builder, topics.feedbackRankings(), rankings, config, metrics), rankings, acceptedToPairs, config);

    KStream<String, Admitted> admittedRatings = admitted(builder, topics.feedbackRatings(), ratings, config, metrics);
    KStream<String, ResponseRating> validRatings = admittedRatings.mapValues(v -> (ResponseRating) ((Admitted.Accepted) v).record(), Named.as(ratings.acceptedNode()));
    deadLetters(admittedRatings, config, ratings);
    pairRatings(labelUnpaired(validRatings, config, toPairs), config, metrics, toPairs, serdeProps);
  }

  /** Writes a kind's accepted records to the pairs topic as they are, its dead letters to the DLQ. */
  private static void passValid(KStream<String, Admitted> admitted, Admission.Kind<?> kind, Produced<String, Admitted> acceptedToPairs, IngestConfig config) {
    admitted.to(config.topics().preferencePairs(), acceptedToPairs.withName(kind.acceptedNode()));
    deadLetters(admitted, config, kind);
  }

  /**
   * The pairs topic's serde as a serde of accepted records: the sink writes what admission forwards,
   * with no node in between to unwrap it. A record that came as Avro in its own schema and was not
   * changed is written as the bytes it came in (under the pairs topic's schema id), not encoded
   * again: encoding was a tenth of the stream thread's time in {@code bench ingest}.
   */
  private static Serde<Admitted> accepted(AvroSerializer<SpecificRecord> avro, Deserializer<SpecificRecord> read) {
    Serializer<Admitted> serializer = (topic, admitted) -> {
      Admitted.Accepted accepted = (Admitted.Accepted) admitted;
      return accepted.encoded() != null
          ? avro.serializeEncoded(topic, accepted.record().getSchema(), accepted.encoded())
          : avro.serialize(topic, accepted.record());
    };
    Deserializer<Admitted> deserializer = (topic, bytes) -> new Admitted.Accepted(read.deserialize(topic, bytes));
    return Serdes.serdeFrom(serializer, deserializer);
  }

  private static <T extends SpecificRecord> KStream<String, Admitted> admitted(
      StreamsBuilder builder, String topic, Admission.Kind<T> kind, IngestConfig config, IngestMetrics metrics) {
    return builder.stream(topic, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("read-" + kind.name()))
        .process(() -> new Admission<>(kind, config.limits().maxRecordBytes(), config.dedupHorizon(), new IdleCommit(config.commitWhenIdle()), metrics), Named.as("admit-" + kind.name()), kind.dedupStore());
  }

  /** Writes the ratings that {@link UnpairedRatings} labels to the pairs topic; returns the others, to pair up. */
  private static KStream<String, ResponseRating> labelUnpaired(KStream<String, ResponseRating> valid, IngestConfig config, Produced<String, SpecificRecord> toPairs) {
    if (!config.unpaired().enabled()) return valid;
    UnpairedRatings unpaired = config.unpaired();
    valid
        .flatMapValues(v -> unpaired.labelled(v).<SpecificRecord>map(l -> l).stream().toList(), Named.as("label-unpaired-ratings"))
        .to(config.topics().preferencePairs(), toPairs.withName("write-labelled-ratings"));
    return valid.filter((k, v) -> unpaired.labelled(v).isEmpty(), Named.as("ratings-to-pair"));
  }

  private static void pairRatings(KStream<String, ResponseRating> valid, IngestConfig config, IngestMetrics metrics,
      Produced<String, SpecificRecord> toPairs, Map<String, Object> serdeProps) {
    RatingPairing pairing = config.pairing();
    Serde<ResponseRating> ratingSerde = avroSerde(ResponseRating.class, serdeProps);
    KStream<String, Admitted> checked = valid
        .repartition(Repartitioned.<String, ResponseRating>as("ratings-by-prompt").withKeySerde(Serdes.String()).withValueSerde(ratingSerde))
        .process(() -> new RatingWindowGate(pairing, RATING_WINDOWS, metrics), Named.as("gate-ratings"), RATING_WINDOWS);
    checked
        .filter((k, v) -> v instanceof Admitted.Rejected, Named.as("late-ratings"))
        .process(() -> new DeadLetterRecords(config.maxRequestBytes()), Named.as("dead-letter-late-ratings"))
        .to(config.topics().dlq(), Produced.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("write-dlq-late-ratings"));
    checked
        .filter((k, v) -> v instanceof Admitted.Accepted, Named.as("timely-ratings"))
        .mapValues(v -> (ResponseRating) ((Admitted.Accepted) v).record(), Named.as("unwrap-timely-ratings"))
        .groupByKey(Grouped.with("ratings-grouped", Serdes.String(), ratingSerde))
        .windowedBy(TimeWindows.ofSizeAndGrace(pairing.window(), pairing.grace()))
        .aggregate(PromptRatings::new, (promptId, rating, agg) -> agg.add(rating), Named.as("collect-ratings"),
            Materialized.<String, PromptRatings, org.apache.kafka.streams.state.WindowStore<org.apache.kafka.common.utils.Bytes, byte[]>>as("ratings-by-window")
                .withKeySerde(Serdes.String()).withValueSerde(JsonSerde.of(PromptRatings.class)))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()).withName("until-window-closes"))
        .toStream(Named.as("closed-windows"))
        .flatMap((window, agg) -> {
          var made = RatingPairs.of(window.key(), window.window().start(), agg, pairing.maxPairsPerPrompt());
          metrics.pairsFromRatings(made.size());
          return made.stream().map(p -> KeyValue.<String, SpecificRecord>pair(window.key(), p)).toList();
        }, Named.as("pair-up-ratings"))
        .to(config.topics().preferencePairs(), toPairs.withName("write-rating-pairs"));
  }

  /** The kind's dead letters to the DLQ; admission forwards only those to this node. */
  private static void deadLetters(KStream<String, Admitted> admitted, IngestConfig config, Admission.Kind<?> kind) {
    admitted.process(() -> new DeadLetterRecords(config.maxRequestBytes()), Named.as(kind.deadLetterNode()))
        .to(config.topics().dlq(), Produced.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("write-dlq-" + kind.name()));
  }

  /** A dead letter as the DLQ record: original key and bytes (cut to fit a request), the reason and source in headers. */
  static final class DeadLetterRecords implements Processor<String, Admitted, byte[], byte[]> {
    private final int maxRequestBytes;
    private ProcessorContext<byte[], byte[]> context;

    DeadLetterRecords(int maxRequestBytes) {
      this.maxRequestBytes = maxRequestBytes;
    }

    @Override
    public void init(ProcessorContext<byte[], byte[]> context) {
      this.context = context;
    }

    @Override
    public void process(Record<String, Admitted> in) {
      DeadLetter.Copy copy = ((Admitted.Rejected) in.value()).letter().fitting(maxRequestBytes);
      context.forward(new Record<>(copy.key(), copy.value(), in.timestamp(), copy.headers()));
    }
  }

  private static ResponseRating stampSource(ResponseRating r, org.apache.kafka.streams.processor.api.RecordMetadata source) {
    Map<String, String> metadata = new HashMap<>(r.getMetadata());
    metadata.put(RatingWindowGate.SOURCE_TOPIC, source.topic());
    metadata.put(RatingWindowGate.SOURCE_PARTITION, String.valueOf(source.partition()));
    metadata.put(RatingWindowGate.SOURCE_OFFSET, String.valueOf(source.offset()));
    return ResponseRating.newBuilder(r).setMetadata(metadata).build();
  }

  private static <T extends SpecificRecord> RecordDeserializer<T> deserializer(Class<T> type, Map<String, Object> serdeProps) {
    RecordDeserializer<T> d = new RecordDeserializer<>(type);
    d.configure(serdeProps, false);
    return d;
  }

  private static <T extends SpecificRecord> Serde<T> avroSerde(Class<T> type, Map<String, Object> serdeProps) {
    return Serdes.serdeFrom(avroSerializer(serdeProps), deserializer(type, serdeProps));
  }

  private static <T extends SpecificRecord> AvroSerializer<T> avroSerializer(Map<String, Object> serdeProps) {
    AvroSerializer<T> serializer = new AvroSerializer<>();
    serializer.configure(serdeProps, false);
    return serializer;
  }

  /** preference.pairs holds several record types: TopicRecordNameStrategy keeps their subjects apart. */
  private static Map<String, Object> preferenceProps(Map<String, Object> serdeProps) {
    Map<String, Object> props = new HashMap<>(serdeProps);
    props.put(SerdeConfig.VALUE_SUBJECT_NAME_STRATEGY, "TopicRecordNameStrategy");
    return props;
  }

  private static RecordDeserializer<SpecificRecord> preferenceDeserializer(Map<String, Object> preferenceProps) {
    RecordDeserializer<SpecificRecord> deserializer = RecordDeserializer.ofAny(PreferencePair.class, RankedResponses.class, LabelledResponse.class);
    deserializer.configure(preferenceProps, false);
    return deserializer;
  }
}
