package io.prefstream.trainer.dpo;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import io.prefstream.trainer.model.TokenLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

class PreferenceBatchTest {

  /** b (13 slots) fills the first row; c (7) and a (4) share the second, whose last 2 slots are padding. */
  private static final List<PreferenceExample> EXAMPLES = List.of(
      PreferenceExample.pair("a", new int[] {3}, new int[] {4, 5}, new int[] {6}),
      PreferenceExample.pair("b", new int[] {1, 2, 3, 4}, new int[] {5, 6, 7, 8, 9, 10}, new int[] {11, 12, 13}),
      PreferenceExample.pair("c", new int[] {2, 2}, new int[] {7}, new int[] {9, 9, 9, 9}));

  @Test
  void packed_namesTheSlotsThatHoldTokens_soNothingButAttentionRunsOnPadding() {
    try (NDManager m = NDManager.newBaseManager()) {
      TokenLayout layout = PreferenceBatch.of(EXAMPLES, PreferenceBatch.Layout.PACKED, m).layout();
      assertThat(layout.tokenIds().getShape().getShape()).containsExactly(2, 13);
      TokenLayout.Occupied occupied = layout.occupied().orElseThrow();
      long[] tokenSlots = occupied.tokenSlots().toLongArray();
      assertThat(tokenSlots).hasSize(24).startsWith(0, 1, 2).endsWith(22, 23);
      long[] slotTokens = occupied.slotTokens().toLongArray();
      for (int token = 0; token < tokenSlots.length; token++) {
        assertThat(slotTokens[(int) tokenSlots[token]]).as("slot of token %d", token).isEqualTo(token);
      }
      assertThat(slotTokens[24]).as("padding reads a token of its row").isEqualTo(23);
      assertThat(slotTokens[25]).isEqualTo(23);
    }
  }

  @Test
  void paddedAndShared_computeEverySlot() {
    try (NDManager m = NDManager.newBaseManager()) {
      assertThat(PreferenceBatch.of(EXAMPLES, PreferenceBatch.Layout.PADDED, m).layout().occupied()).isEmpty();
      assertThat(PreferenceBatch.of(EXAMPLES, PreferenceBatch.Layout.SHARED, m).layout().occupied()).isEmpty();
    }
  }
}
