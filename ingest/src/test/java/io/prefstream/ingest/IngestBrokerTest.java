package io.prefstream.ingest;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.schemas.serde.AvroSerializer;
import io.prefstream.schemas.serde.JsonSerializer;
import io.prefstream.schemas.serde.RecordDeserializer;
import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.testkit.KafkaBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ingest topology on a real broker, exactly-once, fed by several producers at once, and one
 * 10 MB record (its topic takes 16 MB): that one goes to the DLQ as too_large, its copy cut to fit
 * the Streams producer's request size, and ingest keeps running.
 */
class IngestBrokerTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final String PREFIX = "it-ingest.";
  private static final int TEN_MB = 10 << 20;
  private static final int BIG_TOPIC_BYTES = 16 << 20;

  @TempDir Path stateDir;

  @Test
  void validRecordsReachPairs_invalidOnesTheDlq_nothingLost() throws Exception {
    for (String t : List.of("feedback.ratings", "feedback.rankings", "preference.pairs", "preference.dlq")) {
      broker.createTopic(PREFIX + t, 2);
    }
    broker.createTopic(PREFIX + "feedback.pairs", 2, Map.of("max.message.bytes", String.valueOf(BIG_TOPIC_BYTES)));
    Map<String, Object> props = new HashMap<>();
    props.put(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://ingest-broker-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "ingest-broker-test");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(IngestConfig.METRICS_PORT, "-1");
    for (String t : List.of("feedback.pairs", "feedback.ratings", "feedback.rankings", "preference.pairs")) {
      props.put(t + ".topic", PREFIX + t);
    }
    props.put(IngestConfig.DLQ_TOPIC, PREFIX + "preference.dlq");
    props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
    IngestConfig config = IngestConfig.parse(props);
    IngestPreflight.check(config, Duration.ofSeconds(10));

    int producers = 3;
    int validPerProducer = 40;
    int invalidPerProducer = 10;
    try (KafkaStreams streams = IngestStreams.create(config, new IngestMetrics(new SimpleMeterRegistry()))) {
      streams.start();
      ExecutorService pool = Executors.newFixedThreadPool(producers);
      List<Future<?>> sent = new ArrayList<>();
      for (int p = 0; p < producers; p++) {
        int producer = p;
        sent.add(pool.submit(() -> produce(producer, validPerProducer, invalidPerProducer)));
      }
      for (Future<?> f : sent) f.get();
      pool.shutdown();
      sendTenMegabytes();

      int expectedValid = producers * validPerProducer;
      int expectedInvalid = producers * invalidPerProducer + 1;
      List<SpecificRecord> pairs = new ArrayList<>();
      List<ConsumerRecord<byte[], byte[]>> dead = new ArrayList<>();
      var preferences = RecordDeserializer.ofAny(PreferencePair.class, RankedResponses.class);
      preferences.configure(props, false);
      try (var pairsConsumer = new KafkaConsumer<>(broker.consumerProps("check-pairs"), new StringDeserializer(), preferences);
          var dlqConsumer = new KafkaConsumer<>(broker.consumerProps("check-dlq"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        pairsConsumer.subscribe(List.of(PREFIX + "preference.pairs"));
        dlqConsumer.subscribe(List.of(PREFIX + "preference.dlq"));
        await().atMost(Duration.ofSeconds(90)).until(() -> {
          pairsConsumer.poll(Duration.ofMillis(100)).forEach(r -> pairs.add(r.value()));
          dlqConsumer.poll(Duration.ofMillis(100)).forEach(dead::add);
          return pairs.size() >= expectedValid && dead.size() >= expectedInvalid;
        });
        // nothing more arrives: no record is written twice
        for (int i = 0; i < 5; i++) {
          pairsConsumer.poll(Duration.ofMillis(200)).forEach(r -> pairs.add(r.value()));
          dlqConsumer.poll(Duration.ofMillis(200)).forEach(dead::add);
        }
      }
      assertThat(pairs).hasSize(expectedValid);
      assertThat(pairs.stream().map(r -> r instanceof PreferencePair pp ? pp.getEventId() : ((RankedResponses) r).getEventId()).distinct()).hasSize(expectedValid);
      assertThat(dead).hasSize(expectedInvalid);
      assertThat(dead).extracting(r -> new String(r.headers().lastHeader(DeadLetter.REASON).value(), UTF_8))
          .containsOnly("same_responses", "undeserializable", "bad_weight", "too_large");
      assertThat(dead).filteredOn(r -> r.headers().lastHeader(DeadLetter.VALUE_TRUNCATED) != null).singleElement().satisfies(r -> {
        assertThat(new String(r.headers().lastHeader(DeadLetter.VALUE_TRUNCATED).value(), UTF_8)).isEqualTo(String.valueOf(TEN_MB));
        assertThat(r.value().length).isLessThan(1 << 20); // the Streams producer's default max.request.size
      });
      assertThat(streams.state()).isEqualTo(KafkaStreams.State.RUNNING);
      // count in = out + DLQ (+ the repeats, dropped on purpose)
      int in = producers * (validPerProducer + invalidPerProducer) + 1;
      assertThat(pairs.size() + dead.size()).isEqualTo(in);
    }
  }

  private static void sendTenMegabytes() throws Exception {
    Map<String, Object> props = new HashMap<>(broker.producerProps());
    props.put("max.request.size", BIG_TOPIC_BYTES);
    try (var p = new KafkaProducer<byte[], byte[]>(props)) {
      p.send(new ProducerRecord<>(PREFIX + "feedback.pairs", "big".getBytes(UTF_8), new byte[TEN_MB])).get();
    }
  }

  /** Valid pairs and rankings (Avro and JSON, each valid pair once more as a repeat) and invalid records. */
  private static Void produce(int producer, int valid, int invalid) throws Exception {
    Map<String, Object> props = new HashMap<>(broker.producerProps());
    props.put(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://ingest-broker-test");
    AvroSerializer<SpecificRecord> avro = new AvroSerializer<>();
    avro.configure(props, false);
    JsonSerializer<SpecificRecord> json = new JsonSerializer<>();
    long now = Instant.now().toEpochMilli();
    try (var p = new KafkaProducer<byte[], byte[]>(props)) {
      for (int i = 0; i < valid; i++) {
        String id = "p" + producer + "-" + i;
        boolean ranking = i % 5 == 0;
        String topic = PREFIX + (ranking ? "feedback.rankings" : "feedback.pairs");
        SpecificRecord record = ranking
            ? RankedResponses.newBuilder().setEventId(id).setPromptId("prompt-" + i).setPrompt("q" + i).setResponses(List.of("a", "b", "c")).setEventTime(now).build()
            : PreferencePair.newBuilder().setEventId(id).setPromptId("prompt-" + i).setPrompt("q" + i).setChosen("good").setRejected("bad").setEventTime(now).build();
        byte[] bytes = i % 2 == 0 ? avro.serialize(topic, record) : json.serialize(topic, record);
        p.send(new ProducerRecord<>(topic, ("prompt-" + i).getBytes(UTF_8), bytes));
        if (!ranking && i % 3 == 0) p.send(new ProducerRecord<>(topic, ("prompt-" + i).getBytes(UTF_8), bytes)); // a repeat
      }
      for (int i = 0; i < invalid; i++) {
        String topic = PREFIX + "feedback.pairs";
        String id = "bad" + producer + "-" + i;
        byte[] bytes = switch (i % 3) {
          case 0 -> avro.serialize(topic, PreferencePair.newBuilder().setEventId(id).setPrompt("q").setChosen("same").setRejected("same").setEventTime(now).build());
          case 1 -> new byte[] {42, 42, 42};
          default -> json.serialize(topic, PreferencePair.newBuilder().setEventId(id).setPrompt("q").setChosen("a").setRejected("b").setWeight(-1).setEventTime(now).build());
        };
        p.send(new ProducerRecord<>(topic, ("bad-" + i).getBytes(UTF_8), bytes));
      }
      p.flush();
    }
    return null;
  }
}
