package io.prefstream.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.prefstream.trainer.dpo.PreferenceExample;
import io.prefstream.trainer.optim.AdamW;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerStateTest {

  @Test
  void restore_givesTheOptimizerItsUpdates_notTheStepsThatIncludeSkippedOnes_andTheHeldOutSet(@TempDir Path dir) {
    List<PreferenceExample> heldOut = List.of(PreferenceExample.pair("a", new int[] {1, 2}, new int[] {3}, new int[] {4, 5}),
        new PreferenceExample("b", new int[] {6}, List.of(new int[] {7}, new int[] {8}, new int[] {9}), 2.5));
    try (NDManager m = NDManager.newBaseManager(); AdamW adam = AdamW.withDefaults(0, m); AdamW restored = AdamW.withDefaults(0, m)) {
      Map<String, NDArray> parameters = Map.of("w", m.ones(new Shape(2, 2)));
      adam.track(parameters);
      for (int i = 0; i < 2; i++) {
        try (NDManager step = m.newSubManager()) {
          adam.update(parameters, Map.of("w", step.ones(new Shape(2, 2))), 0.1, step);
        }
      }
      new TrainerState(5, 1, heldOut).save(adam, dir); // 5 trainer steps, 3 of them skipped: 2 updates

      TrainerState state = TrainerState.restore(dir, restored, m);

      assertThat(state.step()).isEqualTo(5);
      assertThat(restored.step()).as("bias correction and warm-up count the updates made").isEqualTo(2);
      assertThat(state.heldOut()).hasSize(2);
      assertThat(state.heldOut().get(0).id()).isEqualTo("a");
      assertThat(state.heldOut().get(0).responses().get(1)).containsExactly(4, 5);
      assertThat(state.heldOut().get(1).responses()).hasSize(3);
      assertThat(state.heldOut().get(1).weight()).isEqualTo(2.5);
    }
  }
}
