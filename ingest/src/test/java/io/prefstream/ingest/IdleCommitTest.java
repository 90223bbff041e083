package io.prefstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.serde.AvroSerializer;
import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.testkit.KafkaBroker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A burst's pairs become readable {@code read_committed} once ingest's input goes quiet, long before commit.interval.ms. */
class IdleCommitTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final String PREFIX = "idle-commit.";
  private static final Duration COMMIT_INTERVAL = Duration.ofMinutes(2);

  @TempDir Path stateDir;

  @Test
  void aBurstIsCommittedOnceTheInputIsQuiet_notAtTheCommitInterval() throws Exception {
    for (String t : List.of("feedback.pairs", "feedback.ratings", "feedback.rankings", "preference.pairs", "preference.dlq")) {
      broker.createTopic(PREFIX + t, 1);
    }
    Map<String, Object> props = new HashMap<>();
    props.put(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://idle-commit-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "idle-commit-test");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
    props.put(IngestConfig.COMMIT_INTERVAL_MS, String.valueOf(COMMIT_INTERVAL.toMillis()));
    props.put(StreamsConfig.producerPrefix("transaction.timeout.ms"), String.valueOf(COMMIT_INTERVAL.multipliedBy(2).toMillis()));
    props.put(IngestConfig.COMMIT_WHEN_IDLE_MS, "100");
    props.put(IngestConfig.METRICS_PORT, "-1");
    for (String t : List.of("feedback.pairs", "feedback.ratings", "feedback.rankings", "preference.pairs")) {
      props.put(t + ".topic", PREFIX + t);
    }
    props.put(IngestConfig.DLQ_TOPIC, PREFIX + "preference.dlq");
    IngestConfig config = IngestConfig.parse(props);

    int burst = 20;
    try (KafkaStreams streams = IngestStreams.create(config, new IngestMetrics(new SimpleMeterRegistry()));
        var producer = new KafkaProducer<byte[], byte[]>(broker.producerProps());
        var consumer = new KafkaConsumer<byte[], byte[]>(broker.consumerProps("idle-commit-check"))) {
      streams.start();
      AvroSerializer<PreferencePair> avro = new AvroSerializer<>();
      avro.configure(props, false);
      long now = System.currentTimeMillis();
      for (int i = 0; i < burst; i++) {
        PreferencePair pair = PreferencePair.newBuilder().setEventId("burst-" + i).setPromptId("p" + i).setPrompt("Say hi").setChosen("Hi!")
            .setRejected("Go away.").setEventTime(now).build();
        producer.send(new ProducerRecord<>(PREFIX + "feedback.pairs", ("p" + i).getBytes(StandardCharsets.UTF_8), avro.serialize(PREFIX + "feedback.pairs", pair)));
      }
      producer.flush();
      consumer.subscribe(List.of(PREFIX + "preference.pairs"));
      List<byte[]> read = new ArrayList<>();
      // well within the commit interval, however slowly the group forms and the topology starts
      await().atMost(COMMIT_INTERVAL.dividedBy(2)).until(() -> {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> read.add(r.value()));
        return read.size() >= burst;
      });
      assertThat(read).hasSize(burst);
    }
  }
}
