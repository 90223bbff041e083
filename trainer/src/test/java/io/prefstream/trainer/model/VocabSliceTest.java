package io.prefstream.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class VocabSliceTest {

  @Test
  void aVocabularyWithinTheLimit_isOneSlice() {
    assertThat(VocabSlice.of(260, 16_384)).containsExactly(VocabSlice.all(260));
    assertThat(VocabSlice.of(16_384, 16_384)).containsExactly(VocabSlice.all(16_384));
  }

  @Test
  void slices_coverTheVocabularyInOrder_inNearEqualSizes_withinTheLimit() {
    assertThat(VocabSlice.of(32_768, 16_384)).containsExactly(new VocabSlice(0, 16_384), new VocabSlice(16_384, 32_768));
    List<VocabSlice> qwen = VocabSlice.of(151_936, 16_384);
    assertThat(qwen).hasSize(10);
    assertThat(qwen.get(0).from()).isZero();
    assertThat(qwen.get(9).to()).isEqualTo(151_936);
    for (int i = 1; i < qwen.size(); i++) assertThat(qwen.get(i).from()).isEqualTo(qwen.get(i - 1).to());
    assertThat(qwen).allSatisfy(slice -> assertThat(slice.size()).isBetween(15_193L, 15_194L));
  }

  @Test
  void emptyOrBackwardSlices_areRefused() {
    assertThatThrownBy(() -> new VocabSlice(5, 5)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new VocabSlice(-1, 3)).isInstanceOf(IllegalArgumentException.class);
  }
}
