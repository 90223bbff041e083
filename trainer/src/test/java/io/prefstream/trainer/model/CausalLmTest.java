package io.prefstream.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Behaviour every architecture shares: padding invariance and gradients that reach every weight. */
class CausalLmTest {

  private static final long[] SEQUENCE = {3, 17, 5, 9, 30};

  static Stream<Arguments> configs() {
    return Stream.of(
        Arguments.of(TinyModels.gpt2(true)),
        Arguments.of(TinyModels.gpt2(false)),
        Arguments.of(TinyModels.llama("llama", 2, false, false)),
        Arguments.of(TinyModels.llama("qwen2", 1, true, false)),
        Arguments.of(TinyModels.llama("mistral", 4, false, false)),
        Arguments.of(TinyModels.qwen3(2, false)),
        Arguments.of(TinyModels.gemma3(2, true)));
  }

  @ParameterizedTest
  @MethodSource("configs")
  void logits_ofASequenceAloneEqualItsRowInARightPaddedBatch(ModelConfig config) {
    try (CausalLm model = TinyModels.random(config, 1); NDManager m = model.manager().newSubManager()) {
      long[] padded = {3, 17, 5, 9, 30, 0, 0, 0};
      long[] other = {8, 1, 2, 3, 4, 5, 6, 7};
      NDArray alone = model.logits(TinyModels.ids(m, new long[][] {SEQUENCE}), TinyModels.ids(m, new long[][] {{1, 1, 1, 1, 1}}));
      NDArray batch = model.logits(
          TinyModels.ids(m, new long[][] {other, padded}),
          TinyModels.ids(m, new long[][] {{1, 1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 0, 0, 0}}));

      float[] expected = alone.get(0).toFloatArray();
      float[] actual = batch.get(new NDIndex("1, :{}", SEQUENCE.length)).toFloatArray();
      for (int i = 0; i < expected.length; i++) {
        assertThat(actual[i]).as("logit %d", i).isCloseTo(expected[i], within(1e-5f));
      }
      assertThat(batch.isInfinite().any().getBoolean() || batch.isNaN().any().getBoolean())
          .as("padding positions' logits are finite").isFalse();
    }
  }

  @ParameterizedTest
  @MethodSource("configs")
  void logits_ofRealTokensIgnoreWhatAMaskedTokenHolds(ModelConfig config) {
    try (CausalLm model = TinyModels.random(config, 6); NDManager m = model.manager().newSubManager()) {
      NDArray mask = TinyModels.ids(m, new long[][] {{1, 0, 1, 1}, {1, 0, 1, 1}});
      NDArray logits = model.logits(TinyModels.ids(m, new long[][] {{3, 7, 5, 9}, {3, 30, 5, 9}}), mask);
      float[] first = logits.get(new NDIndex("0, 2:")).toFloatArray();
      float[] second = logits.get(new NDIndex("1, 2:")).toFloatArray();
      for (int i = 0; i < first.length; i++) {
        assertThat(second[i]).as("logit %d", i).isCloseTo(first[i], within(1e-5f));
      }
    }
  }

  @ParameterizedTest
  @MethodSource("configs")
  void parameters_allReceiveFiniteNonzeroGradientsThroughAPaddedBatch(ModelConfig config) {
    try (CausalLm model = TinyModels.random(config, 2); NDManager m = model.manager().newSubManager()) {
      model.parameters().values().forEach(p -> p.setRequiresGradient(true));
      NDArray mask = TinyModels.ids(m, new long[][] {{1, 1, 1, 1, 1, 1}, {1, 1, 1, 0, 0, 0}});
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray logits = model.logits(TinyModels.ids(m, new long[][] {{1, 2, 3, 4, 5, 6}, {7, 8, 9, 0, 0, 0}}), mask);
        // a log-likelihood over real positions only: a NaN at a padding position would still reach the sum as NaN·0
        NDArray logp = logits.logSoftmax(2).get(new NDIndex(":, :, 0")).mul(mask.toType(DataType.FLOAT32, false));
        collector.backward(logp.sum());
      }
      for (Map.Entry<String, NDArray> p : model.parameters().entrySet()) {
        try (NDArray grad = p.getValue().getGradient()) {
          assertThat(grad.isNaN().any().getBoolean() || grad.isInfinite().any().getBoolean()).as(p.getKey()).isFalse();
          assertThat(grad.abs().sum().getFloat()).as(p.getKey()).isPositive();
        }
      }
    }
  }

  @ParameterizedTest
  @MethodSource("configs")
  void gradients_surviveGarbageCollectionBetweenForwardAndBackward(ModelConfig config) {
    float[] calm = embeddingGradient(config, false);
    float[] collected = embeddingGradient(config, true);
    assertThat(collected).containsExactly(calm);
  }

  /** The token embedding's gradient of a masked log-likelihood, optionally with a GC while the graph waits. */
  private static float[] embeddingGradient(ModelConfig config, boolean collectGarbage) {
    try (CausalLm model = TinyModels.random(config, 12); NDManager m = model.manager().newSubManager()) {
      model.parameters().values().forEach(p -> p.setRequiresGradient(true));
      NDArray mask = TinyModels.ids(m, new long[][] {{1, 1, 1, 1}, {1, 1, 0, 0}});
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray logits = model.logits(TinyModels.ids(m, new long[][] {{4, 3, 2, 1}, {9, 8, 0, 0}}), mask);
        NDArray loss = logits.logSoftmax(2).get(new NDIndex(":, :, 1")).mul(mask.toType(DataType.FLOAT32, false)).sum();
        if (collectGarbage) {
          for (int i = 0; i < 3; i++) {
            byte[][] churn = new byte[256][];
            for (int j = 0; j < churn.length; j++) {
              churn[j] = new byte[64 * 1024];
            }
            System.gc();
          }
        }
        collector.backward(loss);
      }
      String embedding = model.parameters().keySet().iterator().next();
      try (NDArray grad = model.parameters().get(embedding).getGradient()) {
        return grad.toFloatArray();
      }
    }
  }
}
