package io.prefstream.ittests;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prefstream.ingest.DeadLetter;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.testkit.KafkaBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chat-formatted feedback as a chat application sends it, TRL's conversational format in plain JSON,
 * through ingest and the trainer (which renders it with the model folder's chat template) into a
 * published checkpoint.
 */
class ChatFeedbackTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();

  @TempDir Path tmp;

  @Test
  void conversationalJsonFeedback_isTrainedOn_andLandsInACheckpoint() throws Exception {
    Clients clients = Clients.plaintext(broker.bootstrapServers(), "e2e-chat");
    try (Pipeline pipeline = Pipeline.start("e2e-chat", clients, tmp); Feedback feedback = new Feedback(clients)) {
      Pipeline.Topics t = pipeline.topics();
      for (int i = 0; i < 4; i++) {
        feedback.bytes(t.feedbackPairs(), "chat-" + i, ("""
            {"event_id": "chat-%d",
             "prompt": [{"role": "system", "content": "You review products."}, {"role": "user", "content": "Review #%d, please: ça marche? 👍"}],
             "chosen": [{"role": "assistant", "content": "Great product, works well."}],
             "rejected": [{"role": "assistant", "content": "Bad."}]}""").formatted(i, i).getBytes(UTF_8)).get();
      }
      feedback.bytes(t.feedbackRankings(), "chat-ranking", """
          {"event_id": "chat-ranking", "prompt": [{"role": "user", "content": "Say hi"}],
           "responses": [[{"role": "assistant", "content": "Hello!"}], [{"role": "assistant", "content": "Hi."}], [{"role": "assistant", "content": "Go away."}]]}"""
          .getBytes(UTF_8)).get();
      feedback.bytes(t.feedbackPairs(), "chat-mixed", """
          {"event_id": "chat-mixed", "prompt": [{"role": "user", "content": "Say hi"}], "chosen": "Hello!", "rejected": [{"role": "assistant", "content": ""}]}"""
          .getBytes(UTF_8)).get();
      feedback.bytes(t.feedbackPairs(), "chat-bad-role", """
          {"event_id": "chat-bad-role", "prompt": [{"role": "user", "content": "Hi"}], "chosen": [{"role": "user", "content": "a"}], "rejected": "b"}"""
          .getBytes(UTF_8)).get();

      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(pipeline.preferencePairs()).hasSize(6));
      List<SpecificRecord> passed = pipeline.preferencePairs().stream().map(ConsumerRecord::value).toList();
      assertThat(passed).filteredOn(PreferencePair.class::isInstance).map(PreferencePair.class::cast)
          .allSatisfy(p -> assertThat(p.getPromptMessages()).isNotEmpty());
      assertThat(passed).filteredOn(RankedResponses.class::isInstance).map(RankedResponses.class::cast)
          .singleElement().satisfies(r -> assertThat(r.getResponsesMessages()).hasSize(3));
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(pipeline.deadLetters())
          .extracting(r -> new String(r.headers().lastHeader(DeadLetter.REASON).value(), UTF_8)).containsExactly("bad_role"));

      pipeline.awaitEveryPairTrainedOnce();
      CheckpointManifest last = pipeline.manifests().get(pipeline.manifests().size() - 1);
      assertThat(last.getStep()).isEqualTo(3); // six conversations, two a step
      assertThat(last.getMetrics().get("loss")).isFinite();
      pipeline.assertRunning();
    }
  }
}
