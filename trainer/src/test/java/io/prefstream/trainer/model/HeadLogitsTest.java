package io.prefstream.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The head's and the token embedding's gradients without (V × D) temporaries are autograd's
 * gradients, and they land in the parameters' own {@code .grad}.
 */
class HeadLogitsTest {

  static Stream<Arguments> configs() {
    return Stream.of(
        Arguments.of(TinyModels.gpt2(true)),
        Arguments.of(TinyModels.gpt2(false)),
        Arguments.of(TinyModels.llama("qwen2", 2, true, false)),
        Arguments.of(TinyModels.llama("llama", 2, false, false)),
        Arguments.of(TinyModels.gemma3(2, true)),
        Arguments.of(TinyModels.gemma3(2, false)));
  }

  @Test
  void aSliceOfTheGradient_isAViewThatAddiWritesThrough() {
    try (NDManager m = TinyModels.manager().newSubManager()) {
      NDArray w = m.zeros(new Shape(5, 3));
      w.setRequiresGradient(true);
      try (NDArray gradient = DenseGradient.of(w); NDArray rows = gradient.get(new NDIndex("1:3"))) {
        rows.addi(m.ones(new Shape(2, 3)));
      }
      assertThat(w.getGradient().toFloatArray()).containsExactly(0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0);
    }
  }

  @Test
  void headBackward_inSlicesOfTheVocabulary_equalsAutograd() {
    try (NDManager m = TinyModels.manager().newSubManager()) {
      NDArray w = m.randomNormal(new Shape(40, 16));
      NDArray h = m.randomNormal(new Shape(6, 16));
      NDArray targets = m.create(new long[] {3, 39, 0, 17, 17, 25}, new Shape(6, 1));
      Function<NDArray, NDArray> loss = logits -> logits.logSoftmax(1).gather(targets, 1).sum();
      w.setRequiresGradient(true);
      h.setRequiresGradient(true);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        collector.backward(loss.apply(HeadLogits.plain(VocabSlice.all(40)).project(h, w)));
      }
      float[] expectedW = w.getGradient().toFloatArray();
      float[] expectedH = h.getGradient().toFloatArray();
      w.getGradient().subi(w.getGradient());
      h.getGradient().subi(h.getGradient());

      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray logitsGradient = logitsGradient(collector, loss, HeadLogits.plain(VocabSlice.all(40)).project(h, w)); // (6, 40)
        for (VocabSlice slice : VocabSlice.of(40, 7)) {                          // 6, 7, 7, 6, 7 and 7 rows
          HeadLogits head = HeadLogits.cutting(slice);
          head.withLogits(head.project(h, w));
          assertThat(head.logits().getShape()).isEqualTo(new Shape(6, slice.size()));
          head.backward(collector, logitsGradient.get(new NDIndex(":, {}:{}", slice.from(), slice.to())));
        }
      }
      assertClose(w.getGradient().toFloatArray(), expectedW, "∂L/∂W");
      assertClose(h.getGradient().toFloatArray(), expectedH, "∂L/∂h");
    }
  }

  @ParameterizedTest
  @MethodSource("configs")
  void trainingHeadAndSparseEmbedding_giveAutogradsDenseGradients(ModelConfig config) {
    try (CausalLm model = TinyModels.random(config, 3); NDManager m = model.manager().newSubManager()) {
      model.parameters().values().forEach(p -> p.setRequiresGradient(true));
      NDArray ids = TinyModels.ids(m, new long[][] {{5, 9, 5, 1, 5}, {9, 9, 2, 3, 4}}); // repeated ids: their rows sum
      NDArray mask = TinyModels.ids(m, new long[][] {{1, 1, 1, 1, 1}, {1, 1, 1, 1, 1}});
      NDArray targets = m.create(new long[] {1, 7, 0, 39, 12, 2, 2, 8, 30, 31}, new Shape(10, 1));
      Map<String, float[]> expected = new LinkedHashMap<>();
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray hidden = model.hiddenStates(TokenLayout.padded(ids, mask), true).reshape(10, -1);
        collector.backward(model.head(hidden).logSoftmax(1).gather(targets, 1).sum());
      }
      model.parameters().forEach((name, p) -> {
        expected.put(name, p.getGradient().toFloatArray());
        p.getGradient().subi(p.getGradient());
      });
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray hidden = model.hiddenStates(TokenLayout.padded(ids, mask), true).reshape(10, -1);
        HeadLogits head = model.trainingHead(hidden, VocabSlice.all(config.vocabSize()));
        head.backward(collector, logitsGradient(collector, logits -> logits.logSoftmax(1).gather(targets, 1).sum(), head.logits()));
      }
      model.parameters().forEach((name, p) -> assertClose(p.getGradient().toFloatArray(), expected.get(name), name));
    }
  }

  /** ∂L/∂z by autograd on a detached copy of the logits, which is what the head's backward takes. */
  private static NDArray logitsGradient(GradientCollector collector, Function<NDArray, NDArray> loss, NDArray logits) {
    NDArray z = logits.stopGradient();
    z.setRequiresGradient(true);
    collector.backward(loss.apply(z));
    return z.getGradient();
  }

  @Test
  void tokenEmbedding_addsItsRowsIntoTheExistingGradientInPlace() {
    try (NDManager m = TinyModels.manager().newSubManager()) {
      NDArray table = m.randomNormal(new Shape(6, 2));
      table.setRequiresGradient(true);
      NDArray ids = m.create(new long[] {4, 1, 4, 4});
      NDArray before = DenseGradient.of(table);                                   // a handle on .grad before the backward
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray x = TokenEmbedding.lookup(ids, table);                            // (4, 2)
        collector.backward(x.mul(m.create(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, new Shape(4, 2))).sum());
      }
      float[] expected = {0, 0, 3, 4, 0, 0, 0, 0, 1 + 5 + 7, 2 + 6 + 8, 0, 0};
      assertThat(before.toFloatArray()).as("the gradient the backward found, written in place").containsExactly(expected);
      assertThat(table.getGradient().toFloatArray()).containsExactly(expected);
    }
  }

  private static void assertClose(float[] actual, float[] expected, String what) {
    assertThat(actual).as(what).hasSameSizeAs(expected);
    for (int i = 0; i < expected.length; i++) {
      assertThat(actual[i]).as("%s[%d]", what, i).isCloseTo(expected[i], within(1e-4f * Math.max(1, Math.abs(expected[i]))));
    }
  }
}
