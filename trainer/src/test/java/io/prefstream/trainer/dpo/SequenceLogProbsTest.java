package io.prefstream.trainer.dpo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import io.prefstream.trainer.model.CausalLm;
import java.util.List;
import org.junit.jupiter.api.Test;

class SequenceLogProbsTest {

  @Test
  void anExampleAlone_scoresAsInsideAPaddedBatch() {
    PreferenceExample shortOne = PreferenceExample.pair("a", new int[] {3}, new int[] {4, 5}, new int[] {6});
    PreferenceExample longOne = PreferenceExample.pair("b", new int[] {1, 2, 3, 4}, new int[] {5, 6, 7, 8, 9, 10}, new int[] {11, 12, 13});
    try (NDManager m = NDManager.newBaseManager(); CausalLm model = TinyPolicies.gpt2(3, m)) {
      float[] alone = SequenceLogProbs.of(model, PreferenceBatch.of(List.of(shortOne), m), LogProbAggregation.SUM).toFloatArray();
      float[] batched = SequenceLogProbs.of(model, PreferenceBatch.of(List.of(longOne, shortOne), m), LogProbAggregation.SUM).toFloatArray();
      assertThat(batched[2]).isCloseTo(alone[0], within(1e-5f));
      assertThat(batched[3]).isCloseTo(alone[1], within(1e-5f));
    }
  }

  @Test
  void mean_isSumOverResponseLength() {
    PreferenceExample ex = PreferenceExample.pair("a", new int[] {3, 1}, new int[] {4, 5, 6}, new int[] {6});
    try (NDManager m = NDManager.newBaseManager(); CausalLm model = TinyPolicies.gpt2(3, m)) {
      PreferenceBatch batch = PreferenceBatch.of(List.of(ex), m);
      float[] sum = SequenceLogProbs.of(model, batch, LogProbAggregation.SUM).toFloatArray();
      float[] mean = SequenceLogProbs.of(model, batch, LogProbAggregation.MEAN).toFloatArray();
      assertThat(mean[0]).isCloseTo(sum[0] / 3, within(1e-5f));
      assertThat(mean[1]).isCloseTo(sum[1], within(1e-5f));
    }
  }
}
