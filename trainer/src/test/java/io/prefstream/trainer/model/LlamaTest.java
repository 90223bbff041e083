package io.prefstream.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LlamaTest {

  private static final int[] TOKENS = {5, 39, 0, 12, 12, 7, 21};

  @TempDir Path dir;

  static Stream<Arguments> variants() {
    return Stream.of(
        Arguments.of("GQA, untied head", TinyModels.llama("llama", 2, false, false)),
        Arguments.of("attention_bias on q/k/v/o, tied head", TinyModels.llama("llama", 4, true, true)),
        Arguments.of("qwen2 q/k/v biases, one kv head", TinyModels.llama("qwen2", 1, false, false)),
        Arguments.of("mistral", TinyModels.llama("mistral", 2, true, false)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void logits_matchAPlainDoubleImplementation(String name, LlamaConfig config) {
    try (CausalLm model = TinyModels.random(config, 3); NDManager m = model.manager().newSubManager()) {
      long[] ids = new long[TOKENS.length];
      long[] mask = new long[TOKENS.length];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = TOKENS[i];
        mask[i] = 1;
      }
      float[] actual = model.logits(TinyModels.ids(m, new long[][] {ids}), TinyModels.ids(m, new long[][] {mask})).toFloatArray();
      double[][] expected = new NaiveLlama(model).logits(TOKENS);
      int v = config.vocabSize();
      for (int t = 0; t < TOKENS.length; t++) {
        for (int k = 0; k < v; k++) {
          assertThat((double) actual[t * v + k]).as("position %d token %d", t, k).isCloseTo(expected[t][k], within(1e-4 * Math.max(1, Math.abs(expected[t][k]))));
        }
      }
    }
  }

  @Test
  void logits_withSharedKvHeadsEqualTheModelWithKvExpandedToEveryHead() throws Exception {
    LlamaConfig grouped = TinyModels.llama("llama", 2, false, true);
    LlamaConfig full = TinyModels.llama("llama", 4, false, true);
    try (CausalLm gqa = TinyModels.random(grouped, 4); NDManager m = gqa.manager().newSubManager()) {
      Map<String, NDArray> expanded = new LinkedHashMap<>();
      for (Map.Entry<String, NDArray> p : gqa.parameters().entrySet()) {
        boolean kv = p.getKey().contains("k_proj") || p.getKey().contains("v_proj");
        expanded.put(p.getKey(), kv ? repeatHeads(p.getValue(), 2, 4, 4) : p.getValue());
      }
      Files.writeString(dir.resolve(ModelFolder.CONFIG), full.toJson().toString());
      SafeTensors.write(expanded, dir.resolve(ModelFolder.WEIGHTS));

      try (CausalLm mha = ModelFolder.load(dir, TinyModels.manager())) {
        NDArray ids = TinyModels.ids(m, new long[][] {{1, 2, 3, 4, 5}, {6, 7, 8, 0, 0}});
        NDArray mask = TinyModels.ids(m, new long[][] {{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}});
        float[] a = gqa.logits(ids, mask).toFloatArray();
        float[] b = mha.logits(ids, mask).toFloatArray();
        for (int i = 0; i < a.length; i++) {
          assertThat(b[i]).isCloseTo(a[i], within(1e-5f));
        }
      }
    }
  }

  @Test
  void logits_longerThanMistralsSlidingWindowAreRejected() {
    try (CausalLm model = TinyModels.random(TinyModels.llama("mistral", 2, true, false), 5);
        NDManager m = model.manager().newSubManager()) {
      long[] ids = new long[17]; // window 16
      assertThatThrownBy(() -> model.logits(TinyModels.ids(m, new long[][] {ids}), TinyModels.ids(m, new long[][] {ids})))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("sliding_window 16");
    }
  }

  /** (kv·hd, …) rows grouped by kv head -> (heads·hd, …): kv head j's rows repeated for each of its heads / kv query heads. */
  private static NDArray repeatHeads(NDArray w, int kvHeads, int headDim, int heads) {
    long rest = w.size() / ((long) kvHeads * headDim);
    NDArray copies = w.reshape(kvHeads, 1, headDim, rest).broadcast(kvHeads, heads / kvHeads, headDim, rest);
    return copies.reshape(w.getShape().dimension() == 1 ? new Shape(heads * headDim) : new Shape(heads * headDim, rest));
  }
}
