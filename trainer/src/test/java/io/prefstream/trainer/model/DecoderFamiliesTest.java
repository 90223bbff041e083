package io.prefstream.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every decoder family against {@link NaiveDecoder}, a plain double-precision pass written from the Hugging Face code. */
class DecoderFamiliesTest {

  /** Longer than Gemma's window of 3, so its sliding layers drop keys. */
  private static final int[] TOKENS = {5, 39, 0, 12, 12, 7, 21};

  static Stream<Arguments> variants() {
    return Stream.of(
        Arguments.of("llama GQA, untied head", TinyModels.llama("llama", 2, false, false)),
        Arguments.of("llama attention_bias on q/k/v/o, tied head", TinyModels.llama("llama", 4, true, true)),
        Arguments.of("qwen2 q/k/v biases, one kv head", TinyModels.llama("qwen2", 1, false, false)),
        Arguments.of("mistral", TinyModels.llama("mistral", 2, true, false)),
        Arguments.of("llama 3 rope scaling, GQA, untied head", TinyModels.llama3(2, false)),
        Arguments.of("llama 3 rope scaling, tied head", TinyModels.llama3(4, true)),
        Arguments.of("qwen3 GQA, untied head", TinyModels.qwen3(2, false)),
        Arguments.of("qwen3 one kv head, tied head", TinyModels.qwen3(1, true)),
        Arguments.of("gemma3 GQA, untied head", TinyModels.gemma3(2, false)),
        Arguments.of("gemma3 one kv head, tied head", TinyModels.gemma3(1, true)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void logits_matchAPlainDoubleImplementation(String name, ModelConfig config) {
    try (CausalLm model = TinyModels.random(config, 3); NDManager m = model.manager().newSubManager()) {
      long[] ids = new long[TOKENS.length];
      long[] mask = new long[TOKENS.length];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = TOKENS[i];
        mask[i] = 1;
      }
      float[] actual = model.logits(TinyModels.ids(m, new long[][] {ids}), TinyModels.ids(m, new long[][] {mask})).toFloatArray();
      double[][] expected = new NaiveDecoder(model).logits(TOKENS);
      int v = config.vocabSize();
      for (int t = 0; t < TOKENS.length; t++) {
        for (int k = 0; k < v; k++) {
          assertThat((double) actual[t * v + k]).as("position %d token %d", t, k)
              .isCloseTo(expected[t][k], within(1e-4 * Math.max(1, Math.abs(expected[t][k]))));
        }
      }
    }
  }
}
