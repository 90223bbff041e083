package io.prefstream.trainer.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import io.prefstream.trainer.dpo.Completion;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.ModelFolder;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SampledKlTest {
  private static final int[] PROMPT = {1, 2};

  @Test
  void estimate_ofAModelAgainstAnIdenticalCopy_isZero() {
    try (NDManager manager = NDManager.newBaseManager(); CausalLm policy = ModelFolder.random(ResponseSamplerTest.TINY, 4, manager);
        CausalLm reference = ModelFolder.random(ResponseSamplerTest.TINY, 4, manager)) {
      List<Completion> samples = new ResponseSampler(8, ResponseSamplerTest.STOP).sample(policy, PROMPT, 40, new Random(1));
      assertThat(SampledKl.estimate(policy, reference, samples)).isCloseTo(0.0, within(1e-5));
    }
  }

  @Test
  void estimate_afterThePolicyLearnedOneResponse_isAboutItsLogRatio() {
    int[] response = {5, 6, ResponseSamplerTest.STOP};
    try (NDManager manager = NDManager.newBaseManager(); CausalLm policy = ModelFolder.random(ResponseSamplerTest.TINY, 5, manager);
        CausalLm reference = ModelFolder.random(ResponseSamplerTest.TINY, 5, manager)) {
      ResponseSamplerTest.trainOn(policy, List.of(new Completion(PROMPT, response)), 80);
      List<Completion> samples = new ResponseSampler(8, ResponseSamplerTest.STOP).sample(policy, PROMPT, 40, new Random(1));
      // the policy is nearly deterministic, so KL ≈ −log π_ref(y|x) of its one response: about 3 ln 32 nats
      assertThat(SampledKl.estimate(policy, reference, samples)).isCloseTo(3 * Math.log(32), within(0.5));
    }
  }
}
