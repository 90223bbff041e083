package io.prefstream.trainer.dpo;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.LoraConfig;
import io.prefstream.trainer.model.LoraModel;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class StepWorkersTest {
  private static NDManager manager;

  @BeforeAll
  static void start() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void stop() {
    manager.close();
  }

  @Test
  void onTheCpu_workersShareTheCores() {
    try (CausalLm policy = TinyPolicies.gpt2(1, manager)) {
      assertThat(StepWorkers.of(2, Device.cpu(), policy, 2)).isEqualTo(new StepWorkers(2, Optional.of(1)));
      assertThat(StepWorkers.of(2, Device.cpu(), policy, 8)).isEqualTo(new StepWorkers(2, Optional.of(4)));
      assertThat(StepWorkers.of(4, Device.cpu(), policy, 2)).as("no more workers than cores").isEqualTo(new StepWorkers(2, Optional.of(1)));
      assertThat(StepWorkers.of(1, Device.cpu(), policy, 2)).as("PyTorch's threads as they are").isEqualTo(new StepWorkers(1, Optional.empty()));
    }
  }

  @Test
  void oneWorker_onAGpu_andWithLora() {
    try (CausalLm policy = TinyPolicies.gpt2(1, manager)) {
      assertThat(StepWorkers.of(2, Device.gpu(), policy, 2).workers()).isEqualTo(1);
    }
    try (LoraModel lora = LoraModel.attach(TinyPolicies.gpt2(1, manager), new LoraConfig(2, 4, 0, List.of(LoraConfig.ATTENTION)), 0)) {
      assertThat(StepWorkers.of(2, Device.cpu(), lora, 2).workers()).isEqualTo(1);
    }
  }
}
