package io.prefstream.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.trainer.dpo.PreferenceExample;
import java.util.List;
import org.junit.jupiter.api.Test;

class MicroBatchesTest {

  private static PreferenceExample example(String id, int responseLength) {
    return PreferenceExample.pair(id, new int[2], new int[responseLength], new int[responseLength]);
  }

  @Test
  void examplesGoLongestFirst_intoMicroBatchesOfRowsUnderTheBudget() {
    // rows: prompt once + both responses = 8, 22, 4, 20 tokens
    List<PreferenceExample> batch = List.of(example("a", 3), example("b", 10), example("c", 1), example("d", 9));
    List<List<String>> ids = MicroBatches.of(batch, 44).stream()
        .map(micro -> micro.stream().map(PreferenceExample::id).toList())
        .toList();
    assertThat(ids).containsExactly(List.of("b", "d"), List.of("a", "c")); // 2 × 22 = 44; then 2 × 8
  }

  @Test
  void anExampleOverTheBudget_isAMicroBatchAlone() {
    assertThat(MicroBatches.of(List.of(example("a", 30), example("b", 1)), 10)).hasSize(2);
  }
}
