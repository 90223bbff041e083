package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDManager;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.Gpt2Config;
import io.prefstream.trainer.model.Gemma3Config;
import io.prefstream.trainer.model.LlamaConfig;
import io.prefstream.trainer.model.ModelFolder;
import io.prefstream.trainer.model.RopeScaling;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.Random;

/** Tiny seeded models and a learnable preference task for the training tests. */
final class TinyPolicies {
  static final int VOCAB = 32;

  private TinyPolicies() {}

  static CausalLm gpt2(long seed, NDManager manager) {
    return ModelFolder.random(new Gpt2Config(VOCAB, 32, 16, 1, 2, 64, 1e-5f, true), seed, manager);
  }

  /** Rotary positions and grouped-query attention (4 query heads over 2 k/v heads), untied head. */
  static CausalLm llama(long seed, NDManager manager) {
    return ModelFolder.random(new LlamaConfig("llama", VOCAB, 16, 24, 2, 4, 2, 4, 1e-6f, 10000.0, RopeScaling.NONE, 64, false, false, false, 0), seed, manager);
  }

  /** Gemma 3: sliding layers with a window of 3 keys around a full layer, soft-capped, untied head. */
  static CausalLm gemma3(long seed, NDManager manager) {
    return ModelFolder.random(new Gemma3Config(VOCAB, 16, 24, 3, 4, 2, 4, 1e-6f, 1_000_000.0, RopeScaling.linear(2), 10_000.0, 64,
        false, false, 4, 3, Gemma3Config.layerPattern(3, 2), OptionalDouble.of(5)), seed, manager);
  }

  /** Pairs whose chosen response repeats token 7 and whose rejected one repeats token 9. */
  static List<PreferenceExample> pairs(int n, long seed) {
    Random random = new Random(seed);
    List<PreferenceExample> examples = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int[] prompt = {1 + random.nextInt(5), 1 + random.nextInt(5)};
      int length = 2 + random.nextInt(3);
      int[] chosen = new int[length];
      int[] rejected = new int[length];
      java.util.Arrays.fill(chosen, 7);
      java.util.Arrays.fill(rejected, 9);
      examples.add(PreferenceExample.pair("ex-" + i, prompt, chosen, rejected));
    }
    return examples;
  }
}
