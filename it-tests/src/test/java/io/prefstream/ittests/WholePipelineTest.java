package io.prefstream.ittests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.djl.ndarray.NDManager;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.testkit.KafkaBroker;
import io.prefstream.trainer.dpo.DpoConfig;
import io.prefstream.trainer.dpo.PreferenceExample;
import io.prefstream.trainer.dpo.PreferenceLoss;
import io.prefstream.trainer.dpo.PreferenceScore;
import io.prefstream.trainer.dpo.PreferenceScorer;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.ModelFolder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Feedback of every kind (pairs, ratings, rankings) through ingest and the trainer to the model
 * topic, rolled out to a folder on disk that loads with the trainer's loader and scores: the
 * policy there is the trained one, no longer the model it started from.
 */
class WholePipelineTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();

  @TempDir Path tmp;

  @Test
  void ratingsPairsAndRankings_becomeARolledOutCheckpointThatLoadsAndScores() throws Exception {
    Clients clients = Clients.plaintext(broker.bootstrapServers(), "e2e-whole");
    List<CheckpointManifest> manifests;
    try (Pipeline pipeline = Pipeline.start("e2e-whole", clients, tmp); Feedback feedback = new Feedback(clients)) {
      Pipeline.Topics t = pipeline.topics();
      long now = System.currentTimeMillis();
      for (int i = 0; i < 6; i++) {
        feedback.avro(t.feedbackPairs(), "k" + i, Feedback.pair("pair-" + i).build());
        feedback.json(t.feedbackRankings(), "k" + i, Feedback.ranking("ranking-" + i).build());
        feedback.avro(t.feedbackRatings(), "rated-" + i, Feedback.rating("rating-" + i + "-a", "rated-" + i, "a", 5, now).build());
        feedback.avro(t.feedbackRatings(), "rated-" + i, Feedback.rating("rating-" + i + "-b", "rated-" + i, "b", 1, now).build());
      }
      // a rating sent after the rating windows are over closes them, so the rated prompts pair up
      feedback.avro(t.feedbackRatings(), "later", Feedback.rating("closes-the-windows", "later", "a", 3, Pipeline.ratingWindowsOver(now)).build()).get();
      feedback.flush();

      // 6 pairs, 6 rankings, 6 pairs made from ratings
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(pipeline.preferencePairs()).hasSize(18));
      pipeline.awaitEveryPairTrainedOnce();
      pipeline.assertRunning();
      assertThat(pipeline.deadLetters()).isEmpty();
      manifests = pipeline.manifests();

      Map<String, Object> consumer = new HashMap<>(clients.props());
      consumer.put(ConsumerConfig.GROUP_ID_CONFIG, "e2e-whole-rollout");
      consumer.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      consumer.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      consumer.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 << 20);
      Path served = Rollout.firstVersion(consumer, t.models(), pipeline.modelName(), tmp.resolve("serving"));

      List<PreferenceExample> examples = List.of(
          PreferenceExample.pair("a", new int[] {81, 63}, new int[] {65, 32, 104}, new int[] {78, 111}),
          PreferenceExample.pair("b", new int[] {82}, new int[] {65, 110}, new int[] {46}));
      try (NDManager m = NDManager.newBaseManager(); CausalLm policy = ModelFolder.load(served, m);
          CausalLm reference = ModelFolder.load(pipeline.baseModel(), m); PreferenceLoss loss = new PreferenceLoss(DpoConfig.defaults(), m)) {
        List<Double> rewards = new ArrayList<>();
        for (PreferenceScore s : new PreferenceScorer(policy, reference, loss).score(examples)) {
          rewards.add(s.reward(0));
          rewards.add(s.reward(1));
          assertThat(s.loss()).isFinite();
        }
        assertThat(rewards).as("the served policy is the trained one, not the base").anyMatch(r -> Math.abs(r) > 1e-4);
      }
    }
    assertThat(manifests).isNotEmpty();
  }
}
