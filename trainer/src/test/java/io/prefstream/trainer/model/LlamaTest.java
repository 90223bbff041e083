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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LlamaTest {

  @TempDir Path dir;

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
