package io.prefstream.trainer.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import io.prefstream.trainer.dpo.Completion;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.Gpt2Config;
import io.prefstream.trainer.model.ModelFolder;
import io.prefstream.trainer.optim.LinearWarmup;
import io.prefstream.trainer.sft.SftStep;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ResponseSamplerTest {
  static final Gpt2Config TINY = new Gpt2Config(32, 32, 16, 1, 2, 64, 1e-5f, true);
  static final int STOP = 3;
  private static final int[] PROMPT = {1, 2};

  @Test
  void sample_sameSeed_sameResponses() {
    ResponseSampler sampler = new ResponseSampler(10, STOP);
    try (NDManager manager = NDManager.newBaseManager(); CausalLm model = ModelFolder.random(TINY, 1, manager)) {
      List<int[]> first = responses(sampler.sample(model, PROMPT, 6, new Random(7)));
      List<int[]> again = responses(sampler.sample(model, PROMPT, 6, new Random(7)));
      List<int[]> other = responses(sampler.sample(model, PROMPT, 6, new Random(8)));
      assertThat(again).containsExactlyElementsOf(first);
      assertThat(other).isNotEqualTo(first);
      assertThat(first).allSatisfy(r -> assertThat(r.length).isBetween(1, 10));
    }
  }

  @Test
  void sample_ofAModelTrainedOnOneResponse_isThatResponse() {
    int[] response = {5, 6, 7, 8, STOP};
    try (NDManager manager = NDManager.newBaseManager(); CausalLm model = ModelFolder.random(TINY, 2, manager)) {
      trainOn(model, List.of(new Completion(PROMPT, response)), 80);
      List<Completion> samples = new ResponseSampler(10, STOP).sample(model, PROMPT, 8, new Random(1));
      assertThat(responses(samples)).allSatisfy(r -> assertThat(r).containsExactly(response));
      assertThat(samples).allSatisfy(s -> assertThat(s.prompt()).containsExactly(PROMPT));
    }
  }

  @Test
  void sample_withoutTheStopToken_endsAtMaxNewTokens() {
    try (NDManager manager = NDManager.newBaseManager(); CausalLm model = ModelFolder.random(TINY, 3, manager)) {
      trainOn(model, List.of(new Completion(PROMPT, new int[] {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9})), 80);
      assertThat(responses(new ResponseSampler(4, STOP).sample(model, PROMPT, 3, new Random(1))))
          .allSatisfy(r -> assertThat(r).containsExactly(9, 9, 9, 9));
    }
  }

  static void trainOn(CausalLm model, List<Completion> data, int steps) {
    try (SftStep step = new SftStep(model, new LinearWarmup(1e-2, 0), 1.0)) {
      for (int i = 0; i < steps; i++) step.step(data);
    }
  }

  private static List<int[]> responses(List<Completion> samples) {
    return samples.stream().map(Completion::response).toList();
  }
}
