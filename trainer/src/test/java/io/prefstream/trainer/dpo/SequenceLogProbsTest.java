package io.prefstream.trainer.dpo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.LoraConfig;
import io.prefstream.trainer.model.LoraModel;
import io.prefstream.trainer.model.WorkerModel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SequenceLogProbsTest {

  @Test
  void anExampleAlone_scoresAsInsideAPaddedBatch() {
    PreferenceExample shortOne = PreferenceExample.pair("a", new int[] {3}, new int[] {4, 5}, new int[] {6});
    PreferenceExample longOne = PreferenceExample.pair("b", new int[] {1, 2, 3, 4}, new int[] {5, 6, 7, 8, 9, 10}, new int[] {11, 12, 13});
    try (NDManager m = NDManager.newBaseManager(); CausalLm model = TinyPolicies.gpt2(3, m)) {
      float[] alone = SequenceLogProbs.of(model, PreferenceBatch.of(List.of(shortOne), m), LogProbAggregation.SUM).toFloatArray();
      float[] batched = SequenceLogProbs.of(model, PreferenceBatch.of(List.of(longOne, shortOne), m), LogProbAggregation.SUM).toFloatArray();
      assertThat(batched[2]).isCloseTo(alone[0], within(1e-5f));
      assertThat(batched[3]).isCloseTo(alone[1], within(1e-5f));
    }
  }

  @Test
  void mean_isSumOverResponseLength() {
    PreferenceExample ex = PreferenceExample.pair("a", new int[] {3, 1}, new int[] {4, 5, 6}, new int[] {6});
    try (NDManager m = NDManager.newBaseManager(); CausalLm model = TinyPolicies.gpt2(3, m)) {
      PreferenceBatch batch = PreferenceBatch.of(List.of(ex), m);
      float[] sum = SequenceLogProbs.of(model, batch, LogProbAggregation.SUM).toFloatArray();
      float[] mean = SequenceLogProbs.of(model, batch, LogProbAggregation.MEAN).toFloatArray();
      assertThat(mean[0]).isCloseTo(sum[0] / 3, within(1e-5f));
      assertThat(mean[1]).isCloseTo(sum[1], within(1e-5f));
    }
  }

  /**
   * Packed: b (13 slots) fills a row, c (7) and a (4) share the second; Gemma's window must not reach
   * across them. One example a chunk, the vocabulary of 32 whole or in slices of 6, 6, 7, 6 and 7 rows.
   */
  @ParameterizedTest
  @CsvSource({"gpt2, PADDED, 32", "gpt2, SHARED, 32", "gpt2, PACKED, 32", "gpt2, PACKED, 7", "llama, SHARED, 32", "llama, PACKED, 7",
      "gemma3, SHARED, 32", "gemma3, PACKED, 7"})
  void everyLayoutWithHeadAtResponsePositionsInChunks_equalsTheFullPaddedLogits_inValuesAndGradients(
      String architecture, PreferenceBatch.Layout layout, long sliceRows) {
    List<PreferenceExample> examples = List.of(
        PreferenceExample.pair("a", new int[] {3}, new int[] {4, 5}, new int[] {6}),
        PreferenceExample.pair("b", new int[] {1, 2, 3, 4}, new int[] {5, 6, 7, 8, 9, 10}, new int[] {11, 12, 13}),
        PreferenceExample.pair("c", new int[] {2, 2}, new int[] {7}, new int[] {9, 9, 9, 9}));
    try (NDManager m = NDManager.newBaseManager();
        CausalLm model = switch (architecture) {
          case "gpt2" -> TinyPolicies.gpt2(3, m);
          case "llama" -> TinyPolicies.llama(3, m);
          default -> TinyPolicies.gemma3(3, m); // its sliding window must count positions, not slots, in shared-prompt rows
        }) {
      model.parameters().values().forEach(p -> p.setRequiresGradient(true));
      assertThat(model.headWeightLearns()).as("training streams the vocabulary").isTrue();
      try (WorkerModel worker = model.forWorker().orElseThrow()) {
        assertThat(worker.headWeightLearns()).as("so does a data-parallel worker's").isTrue();
      }
      PreferenceBatch batch = PreferenceBatch.of(examples, layout, m);
      assertThat(batch.layout().tokenIds().getShape().get(0)).isEqualTo(switch (layout) {
        case PADDED -> 6L;
        case SHARED -> 3L;
        case PACKED -> 2L;
      });
      float[] full;
      Map<String, float[]> fullGradients;
      try (NDScope scope = new NDScope(); GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray logProbs = fullLogitsLogProbs(model, examples, m);
        full = logProbs.toFloatArray();
        collector.backward(nonlinearLoss(logProbs));
        fullGradients = takeGradients(model);
      }
      SequenceLogProbs.Chunking oneExampleAChunk = new SequenceLogProbs.Chunking(6L * sliceRows, sliceRows);
      float[] chunked = SequenceLogProbs.of(model, batch, LogProbAggregation.SUM, oneExampleAChunk).toFloatArray();
      assertThat(chunked).containsExactly(full, within(1e-5f));
      float[] trained;
      try (NDScope scope = new NDScope(); GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        trained = SequenceLogProbs.backward(model, batch, LogProbAggregation.SUM, collector,
            (logProbs, first) -> nonlinearLoss(logProbs), oneExampleAChunk).toFloatArray();
      }
      assertThat(trained).containsExactly(full, within(1e-5f));
      Map<String, float[]> chunkedGradients = takeGradients(model);
      fullGradients.forEach((name, g) -> {
        assertThat(g).as(name + " has a gradient").isNotEqualTo(new float[g.length]);
        float[] chunkedGradient = chunkedGradients.get(name);
        for (int i = 0; i < g.length; i++) { // 1e-4 relative: Gemma's √D-scaled embeddings take gradients in the hundreds
          assertThat(chunkedGradient[i]).as("%s[%d]", name, i).isCloseTo(g[i], within(1e-4f * Math.max(1, Math.abs(g[i]))));
        }
      });
    }
  }

  /**
   * The chunked pass's hand-made head gradient weighs each token as the options do: MEAN's 1/|y|,
   * LD-DPO's α; WPO's weights are computed beside, with the vocabulary whole or in slices.
   */
  @ParameterizedTest
  @CsvSource({"MEAN, 1, false, 32", "SUM, 0.5, true, 32", "SUM, 0.5, true, 7", "MEAN, 0.25, false, 7"})
  void meanAndLdAlpha_inChunks_equalTheFullPaddedLogits_inValuesAndGradients(LogProbAggregation aggregation, double ldAlpha, boolean wpo, long sliceRows) {
    List<PreferenceExample> examples = List.of(
        PreferenceExample.pair("a", new int[] {3}, new int[] {4, 5}, new int[] {6}),
        PreferenceExample.pair("b", new int[] {1, 2, 3, 4}, new int[] {5, 6, 7, 8, 9, 10}, new int[] {11, 12, 13}));
    SequenceLogProbs.Options options = new SequenceLogProbs.Options(aggregation, ldAlpha, wpo);
    try (NDManager m = NDManager.newBaseManager(); CausalLm model = TinyPolicies.gpt2(3, m)) {
      model.parameters().values().forEach(p -> p.setRequiresGradient(true));
      PreferenceBatch batch = PreferenceBatch.of(examples, PreferenceBatch.Layout.PACKED, m);
      float[] full;
      Map<String, float[]> fullGradients;
      try (NDScope scope = new NDScope(); GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray logProbs = fullLogitsLogProbs(model, examples, m, options, false);
        full = logProbs.toFloatArray();
        collector.backward(nonlinearLoss(logProbs));
        fullGradients = takeGradients(model);
      }
      float[] trained;
      try (NDScope scope = new NDScope(); GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        SequenceLogProbs.Scored scored = SequenceLogProbs.backward(model, batch, options, collector,
            (logProbs, wpoWeights, first) -> nonlinearLoss(logProbs), new SequenceLogProbs.Chunking(6L * sliceRows, sliceRows));
        trained = scored.logProbs().toFloatArray();
        assertThat(scored.wpoWeights() != null).isEqualTo(wpo);
        if (wpo) {
          float[] expected = fullLogitsLogProbs(model, examples, m, SequenceLogProbs.Options.of(LogProbAggregation.MEAN), true).exp().toFloatArray();
          assertThat(scored.wpoWeights().toFloatArray()).containsExactly(expected, within(1e-5f));
          SequenceLogProbs.Scored scoredWithoutGraph = SequenceLogProbs.of(model, batch, options, new SequenceLogProbs.Chunking(6L * sliceRows, sliceRows));
          assertThat(scoredWithoutGraph.wpoWeights().toFloatArray()).containsExactly(expected, within(1e-5f));
        }
      }
      assertThat(trained).containsExactly(full, within(1e-5f));
      Map<String, float[]> chunkedGradients = takeGradients(model);
      fullGradients.forEach((name, g) -> {
        float[] chunkedGradient = chunkedGradients.get(name);
        for (int i = 0; i < g.length; i++) assertThat(chunkedGradient[i]).as("%s[%d]", name, i).isCloseTo(g[i], within(1e-4f * Math.max(1, Math.abs(g[i]))));
      });
    }
  }

  /**
   * LoRA with an adapter on the untied LM head: a vocabulary slice takes B's rows of it, so a pass in
   * slices scores as the whole head. Training, whose head weight is frozen, takes the whole
   * vocabulary (a second product per slice would not pay) and gives the same values.
   */
  @Test
  void loraOnTheHead_scoresInVocabularySlicesAsTheWholeHead() {
    List<PreferenceExample> examples = TinyPolicies.pairs(3, 5);
    try (NDManager m = NDManager.newBaseManager();
        LoraModel lora = LoraModel.attach(TinyPolicies.llama(3, m), new LoraConfig(2, 4, 0, List.of(LoraConfig.ATTENTION, "lm_head")), 1)) {
      Random random = new Random(2);
      lora.parameters().forEach((name, p) -> {
        if (name.contains("lora_B")) { // a fresh B is 0, and the adapter would change nothing
          float[] values = new float[(int) p.size()];
          for (int i = 0; i < values.length; i++) values[i] = (float) random.nextGaussian() * 0.3f;
          p.set(values);
        }
        p.setRequiresGradient(true);
      });
      assertThat(lora.headWeightLearns()).isFalse();
      PreferenceBatch batch = PreferenceBatch.of(examples, PreferenceBatch.Layout.PACKED, m);
      SequenceLogProbs.Options sum = SequenceLogProbs.Options.of(LogProbAggregation.SUM);
      SequenceLogProbs.Chunking slicesOfSeven = new SequenceLogProbs.Chunking(42, 7);
      float[] whole = SequenceLogProbs.of(lora, batch, sum, new SequenceLogProbs.Chunking(1L << 24, TinyPolicies.VOCAB)).logProbs().toFloatArray();
      assertThat(SequenceLogProbs.of(lora, batch, sum, slicesOfSeven).logProbs().toFloatArray()).containsExactly(whole, within(1e-5f));
      float[] trained;
      try (NDScope scope = new NDScope(); GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        trained = SequenceLogProbs.backward(lora, batch, LogProbAggregation.SUM, collector, (lp, first) -> nonlinearLoss(lp), slicesOfSeven).toFloatArray();
      }
      assertThat(trained).containsExactly(whole, within(1e-5f));
      float[] headB = takeGradients(lora).get("base_model.model.lm_head.lora_B.weight");
      assertThat(headB).hasSize(TinyPolicies.VOCAB * 2).isNotEqualTo(new float[headB.length]);
    }
  }

  /** The head runs without the adapters' dropout, which its slices (made twice in training) rely on. */
  @Test
  void loraOnTheHeadWithDropout_trainsWithTheHeadWithoutDropout() {
    try (NDManager m = NDManager.newBaseManager();
        LoraModel lora = LoraModel.attach(TinyPolicies.llama(3, m), new LoraConfig(2, 4, 0.1, List.of(LoraConfig.ATTENTION, "lm_head")), 1);
        NDScope scope = new NDScope();
        GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      lora.parameters().values().forEach(p -> p.setRequiresGradient(true));
      PreferenceBatch batch = PreferenceBatch.of(TinyPolicies.pairs(2, 5), PreferenceBatch.Layout.PACKED, m);
      float[] trained = SequenceLogProbs.backward(lora, batch, LogProbAggregation.SUM, collector, (lp, first) -> nonlinearLoss(lp),
          new SequenceLogProbs.Chunking(42, 7)).toFloatArray();
      assertThat(trained).hasSize(4);
      for (float lp : trained) assertThat(lp).isNegative();
    }
  }

  /**
   * The textbook computation: every response a right-padded sequence of its own after its prompt,
   * log-softmax of the logits at every position, masked to the responses.
   */
  private static NDArray fullLogitsLogProbs(CausalLm model, List<PreferenceExample> examples, NDManager m) {
    return fullLogitsLogProbs(model, examples, m, SequenceLogProbs.Options.of(LogProbAggregation.SUM), false);
  }

  /**
   * As above, each token weighed as {@code options} say: 1/|y| for MEAN, α past the example's
   * shortest response (LD-DPO); with {@code wpoAligned}, each token's log π(y_t) − log Σ_v π(v)².
   */
  private static NDArray fullLogitsLogProbs(
      CausalLm model, List<PreferenceExample> examples, NDManager m, SequenceLogProbs.Options options, boolean wpoAligned) {
    int k = examples.get(0).responses().size();
    int n = examples.size() * k;
    int t = examples.stream().mapToInt(PreferenceExample::longestSequence).max().orElseThrow();
    long[] ids = new long[n * t];
    long[] mask = new long[n * t];
    float[] scored = new float[n * (t - 1)];
    int row = 0;
    for (PreferenceExample e : examples) {
      int shortest = e.responses().stream().mapToInt(r -> r.length).min().orElseThrow();
      for (int[] response : e.responses()) {
        int p = e.prompt().length;
        float weight = options.aggregation() == LogProbAggregation.MEAN ? 1f / response.length : 1f;
        for (int j = 0; j < p + response.length; j++) {
          ids[row * t + j] = j < p ? e.prompt()[j] : response[j - p];
          mask[row * t + j] = 1;
          if (j >= p) scored[row * (t - 1) + j - 1] = j - p < shortest ? weight : (float) (weight * options.ldAlpha());
        }
        row++;
      }
    }
    NDArray tokenIds = m.create(ids, new Shape(n, t));
    NDArray logits = model.logits(tokenIds, m.create(mask, new Shape(n, t))); // (N, T, V)
    NDArray logProbs = logits.get(new NDIndex(":, 0:{}, :", t - 1)).logSoftmax(2);
    NDArray tokens = logProbs.gather(tokenIds.get(new NDIndex(":, 1:")).expandDims(2), 2).squeeze(2);
    if (wpoAligned) tokens = tokens.sub(logProbs.mul(2).exp().sum(new int[] {2}).log());
    return tokens.mul(m.create(scored, new Shape(n, t - 1))).sum(new int[] {1}).reshape(examples.size(), k);
  }

  /** A loss that couples each example's responses, like DPO's: Σ_b (lp_b0 − 2·lp_b1)². */
  private static NDArray nonlinearLoss(NDArray logProbs) {
    NDArray chosen = logProbs.get(new NDIndex(":, 0"));
    NDArray rejected = logProbs.get(new NDIndex(":, 1"));
    return chosen.sub(rejected.add(rejected)).square().sum();
  }

  /** Copies each parameter's gradient and zeroes it. */
  private static Map<String, float[]> takeGradients(CausalLm model) {
    Map<String, float[]> out = new LinkedHashMap<>();
    model.parameters().forEach((name, p) -> {
      try (NDArray g = p.getGradient()) {
        out.put(name, g.toFloatArray());
        g.set(new NDIndex("..."), 0);
      }
    });
    return out;
  }
}
