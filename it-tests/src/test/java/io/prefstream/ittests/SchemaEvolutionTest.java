package io.prefstream.ittests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prefstream.schemas.PreferencePair;
import io.prefstream.testkit.KafkaBroker;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Producers a schema version ahead of the services and one behind them (Confluent wire format,
 * their own schema registered): the current ingest and trainer read both, train on every pair,
 * and dead-letter none.
 */
class SchemaEvolutionTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  @TempDir Path tmp;

  /** A record of a schema the project has no class for, in the shape the project's serializer takes. */
  private record OtherVersion(GenericData.Record record) implements SpecificRecord {
    @Override public Schema getSchema() { return record.getSchema(); }
    @Override public Object get(int field) { return record.get(field); }
    @Override public void put(int field, Object value) { record.put(field, value); }
  }

  @Test
  void pairsOfANewerAndAnOlderSchema_areTrainedOn_noneDeadLettered() throws Exception {
    Clients clients = Clients.plaintext(broker.bootstrapServers(), "e2e-evolution");
    Schema newer = schema("PreferencePair-newer.avsc");
    Schema older = schema("PreferencePair-older.avsc");
    try (Pipeline pipeline = Pipeline.start("e2e-evolution", clients, tmp); Feedback feedback = new Feedback(clients)) {
      String topic = pipeline.topics().feedbackPairs();
      for (int i = 0; i < Pipeline.BATCH_PAIRS; i++) {
        feedback.avro(topic, "k", new OtherVersion(pair(newer, "newer-" + i).set("conversation_id", "conversation-" + i).build())).get();
        feedback.avro(topic, "k", new OtherVersion(pair(older, "older-" + i).build())).get();
        feedback.avro(topic, "k", Feedback.pair("current-" + i).build()).get();
      }

      await().atMost(PATIENCE).untilAsserted(() -> assertThat(pipeline.pairEventIds())
          .containsExactlyInAnyOrder("newer-0", "newer-1", "older-0", "older-1", "current-0", "current-1"));
      pipeline.awaitEveryPairTrainedOnce();
      assertThat(pipeline.deadLetters()).isEmpty();
      Map<String, PreferencePair> byId = pipeline.preferencePairs().stream().map(r -> (PreferencePair) r.value())
          .collect(Collectors.toMap(PreferencePair::getEventId, Function.identity()));
      assertThat(byId.get("newer-0").getChosen()).isEqualTo("A helpful answer.");
      // what the older version lacks takes the current defaults
      assertThat(byId.get("older-0").getWeight()).isEqualTo(1.0);
      assertThat(byId.get("older-0").getMetadata()).isEmpty();
      pipeline.assertRunning();
    }
  }

  private static GenericRecordBuilder pair(Schema schema, String eventId) {
    PreferencePair valid = Feedback.pair(eventId).build();
    return new GenericRecordBuilder(schema).set("event_id", eventId).set("prompt_id", valid.getPromptId()).set("prompt", valid.getPrompt())
        .set("chosen", valid.getChosen()).set("rejected", valid.getRejected()).set("event_time", valid.getEventTime());
  }

  private static Schema schema(String file) throws IOException {
    try (InputStream in = SchemaEvolutionTest.class.getResourceAsStream("/evolution/" + file)) {
      return new Schema.Parser().parse(in);
    }
  }
}
