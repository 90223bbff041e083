package io.prefstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.serde.AvroSerializer;
import io.prefstream.schemas.serde.RecordDeserializer;
import io.prefstream.schemas.serde.SerdeConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Admission on a real (RocksDB) de-duplication store, as a task finds it when it starts. */
class AdmissionTest {
  private static final Instant T0 = Instant.parse("2026-11-01T12:00:00Z");
  private static final Duration HORIZON = Duration.ofHours(1);
  private static final Map<String, Object> REGISTRY = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://admission-test");
  @TempDir Path stateDir;

  @Test
  void idsTheStoreHoldsAtStart_areRepeats_newIdsPass() {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "admission-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    MockProcessorContext<String, Admitted> context = new MockProcessorContext<>(props, new TaskId(0, 0), stateDir.toFile());
    WindowStore<String, Long> store = Stores.windowStoreBuilder(Stores.persistentWindowStore("dedup-pairs", HORIZON.multipliedBy(3), HORIZON, false),
        Serdes.String(), Serdes.Long()).withLoggingDisabled().build();
    store.init(context.getStateStoreContext(), store);
    context.addStateStore(store);
    long t = T0.toEpochMilli();
    store.put("restored", t, EventIdDedup.bucketOf(t, HORIZON.toMillis())); // what a restored store holds from before a restart

    RecordDeserializer<PreferencePair> deserializer = new RecordDeserializer<>(PreferencePair.class);
    deserializer.configure(REGISTRY, false);
    Admission.Kind<PreferencePair> pairs = new Admission.Kind<>("pairs", deserializer, new FeedbackRules(IngestConfig.parse(REGISTRY).limits())::pair,
        PreferencePair::getEventId, PreferencePair::getPromptId, PreferencePair::getEventTime, "dedup-pairs", (r, m) -> r);
    IngestMetrics metrics = new IngestMetrics(new SimpleMeterRegistry());
    Admission<PreferencePair> admission = new Admission<>(pairs, 1 << 20, HORIZON, new IdleCommit(Duration.ZERO), metrics);
    admission.init(context);
    context.setCurrentSystemTimeMs(t);
    context.setRecordMetadata("feedback.pairs", 0, 0);

    for (String id : new String[] {"restored", "new", "new"}) admission.process(new Record<>(null, pair(id, t), t));

    assertThat(context.forwarded()).extracting(f -> ((PreferencePair) ((Admitted.Accepted) f.record().value()).record()).getEventId())
        .containsExactly("new");
    assertThat(metrics.count("prefstream.ingest.duplicates", "kind", "pairs")).isEqualTo(2);
    store.close();
  }

  private static byte[] pair(String id, long eventTime) {
    AvroSerializer<PreferencePair> serializer = new AvroSerializer<>();
    serializer.configure(REGISTRY, false);
    return serializer.serialize("feedback.pairs", PreferencePair.newBuilder().setEventId(id).setPromptId("p1").setPrompt("Say hi")
        .setChosen("Hi!").setRejected("Go away.").setEventTime(eventTime).build());
  }
}
