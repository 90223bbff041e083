package io.prefstream.ingest;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.schemas.serde.AvroSerializer;
import io.prefstream.schemas.serde.RecordDeserializer;
import io.prefstream.schemas.serde.SchemaRegistry;
import io.prefstream.schemas.serde.SerdeConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.record.internal.AbstractRecords;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;

/**
 * The ingest topology in a {@link TopologyTestDriver} with its state in the test's own folder (never
 * the shared {@code /tmp/kafka-streams}), its own in-memory registry scope, and the wall clock at
 * {@code start}.
 */
final class TopologyFixture implements AutoCloseable {
  final IngestConfig config;
  final TopologyTestDriver driver;
  final IngestMetrics metrics = new IngestMetrics(new SimpleMeterRegistry());
  final TestInputTopic<byte[], byte[]> pairsIn;
  final TestInputTopic<byte[], byte[]> ratingsIn;
  final TestInputTopic<byte[], byte[]> rankingsIn;
  final TestOutputTopic<String, SpecificRecord> out;
  final TestOutputTopic<byte[], byte[]> dlq;
  private final Map<String, Object> serdeProps;
  private final RecordDeserializer<SpecificRecord> preferences;
  private Instant clock;

  /** @param settings ingest settings over the defaults; a {@code schema.registry.url} there wins */
  TopologyFixture(Path stateDir, Instant start, Map<String, Object> settings) {
    Map<String, Object> props = new HashMap<>();
    props.put(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://ingest-topology-" + UUID.randomUUID());
    props.putAll(settings);
    config = IngestConfig.parse(props);
    serdeProps = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, props.get(SerdeConfig.SCHEMA_REGISTRY_URL));
    Properties streamsProps = new Properties();
    streamsProps.putAll(config.streamsProperties());
    streamsProps.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    streamsProps.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    driver = new TopologyTestDriver(IngestTopology.build(config, metrics), streamsProps, start);
    clock = start;
    pairsIn = driver.createInputTopic("feedback.pairs", new ByteArraySerializer(), new ByteArraySerializer(), start, Duration.ZERO);
    ratingsIn = driver.createInputTopic("feedback.ratings", new ByteArraySerializer(), new ByteArraySerializer(), start, Duration.ZERO);
    rankingsIn = driver.createInputTopic("feedback.rankings", new ByteArraySerializer(), new ByteArraySerializer(), start, Duration.ZERO);
    preferences = RecordDeserializer.ofAny(PreferencePair.class, RankedResponses.class, io.prefstream.schemas.LabelledResponse.class);
    preferences.configure(serdeProps, false);
    out = driver.createOutputTopic("preference.pairs", new StringDeserializer(), preferences);
    dlq = driver.createOutputTopic("preference.dlq", new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /** The record in Confluent's wire format, its schema registered in this fixture's registry. */
  <T extends SpecificRecord> byte[] avro(String topic, T record) {
    AvroSerializer<T> s = new AvroSerializer<>();
    s.configure(serdeProps, false);
    return s.serialize(topic, record);
  }

  /** A value of the pairs topic, read with this fixture's registry. */
  SpecificRecord read(String topic, byte[] value) {
    return preferences.deserialize(topic, value);
  }

  /** This fixture's registry scope. */
  SchemaRegistry registry() {
    return SchemaRegistry.of(SerdeConfig.parse(serdeProps));
  }

  /**
   * The largest record the topology wrote to any topic, its changelog and repartition topics too,
   * as the producer measures it against {@code max.request.size} before it sends (the test driver's
   * producer does not check); reads every topic to its end.
   */
  int largestWrittenBytes() {
    int largest = 0;
    for (String topic : driver.producedTopicNames()) {
      for (TestRecord<byte[], byte[]> r : driver.createOutputTopic(topic, new ByteArrayDeserializer(), new ByteArrayDeserializer()).readRecordsToList()) {
        largest = Math.max(largest, AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE,
            r.key(), r.value(), r.headers().toArray()));
      }
    }
    return largest;
  }

  /** The ingest clock now. */
  Instant clock() {
    return clock;
  }

  /**
   * Moves the ingest (wall) clock on to {@code at}, if that is later: ingest never lets a
   * timestamp run ahead of its clock, so a test that sends events "later" must let time pass.
   */
  void clockTo(Instant at) {
    if (at.isAfter(clock)) {
      driver.advanceWallClockTime(Duration.between(clock, at));
      clock = at;
    }
  }

  @Override
  public void close() {
    driver.close();
  }
}
