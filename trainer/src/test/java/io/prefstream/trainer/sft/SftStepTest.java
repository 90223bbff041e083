package io.prefstream.trainer.sft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import io.prefstream.trainer.dpo.Completion;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.Gpt2Config;
import io.prefstream.trainer.model.ModelFolder;
import io.prefstream.trainer.optim.LinearWarmup;
import java.util.List;
import org.junit.jupiter.api.Test;

class SftStepTest {
  private static final Gpt2Config TINY = new Gpt2Config(32, 32, 16, 1, 2, 64, 1e-5f, true);
  private static final List<Completion> DATA = List.of(
      new Completion(new int[] {1, 2}, new int[] {5, 6, 7, 3}), new Completion(new int[] {4}, new int[] {8, 9, 3}));

  @Test
  void step_lowersTheNegativeLogLikelihoodOfItsData() {
    try (NDManager manager = NDManager.newBaseManager(); CausalLm model = ModelFolder.random(TINY, 1, manager);
        SftStep step = new SftStep(model, new LinearWarmup(1e-2, 0), 1.0)) {
      double first = step.step(DATA);
      double last = first;
      for (int i = 0; i < 40; i++) last = step.step(DATA);
      // the default init is close to uniform over the vocabulary: ln 32 nats per token
      assertThat(first).isCloseTo(Math.log(32), within(0.1));
      assertThat(last).isLessThan(0.2 * first);
    }
  }

  @Test
  void steps_leaveNoArraysBehindOnTheModel() {
    try (NDManager manager = NDManager.newBaseManager(); CausalLm model = ModelFolder.random(TINY, 2, manager);
        SftStep step = new SftStep(model, new LinearWarmup(1e-2, 0), 1.0)) {
      step.step(DATA);
      int arrays = model.manager().getManagedArrays().size();
      for (int i = 0; i < 3; i++) step.step(DATA);
      assertThat(model.manager().getManagedArrays()).hasSize(arrays);
    }
  }
}
