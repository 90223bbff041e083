package io.prefstream.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.schemas.LabelledResponse;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.trainer.dpo.LabelledExample;
import io.prefstream.trainer.dpo.PreferenceExample;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

class ExampleTokensTest {

  private static List<Integer> range(int from, int to) {
    return IntStream.range(from, to).boxed().toList();
  }

  private static PreferencePair pair(int prompt, int chosen, int rejected) {
    return PreferencePair.newBuilder().setEventId("e").setPromptIds(range(0, prompt)).setChosenIds(range(1000, 1000 + chosen))
        .setRejectedIds(range(2000, 2000 + rejected)).build();
  }

  @Test
  void longPrompt_keepsItsLastMaxPromptLengthTokens_thenResponsesKeepTheirStart() {
    ExampleTokens tokens = new ExampleTokens(null, null, 64, 32, new ModelLimits(5000, 1024, 16)); // ids given: no tokenizer or chat template needed
    PreferenceExample e = (PreferenceExample) tokens.of(pair(100, 100, 20));
    assertThat(e.prompt()).hasSize(32).startsWith(68).endsWith(99);
    assertThat(e.responses().get(0)).hasSize(32).startsWith(1000).endsWith(1031);
    assertThat(e.responses().get(1)).hasSize(20);
    assertThat(tokens.truncated()).isEqualTo(1);
  }

  @Test
  void shortPrompt_isKept_andOnlyTheResponsesAreCut() {
    ExampleTokens tokens = new ExampleTokens(null, null, 64, 32, new ModelLimits(5000, 1024, 16));
    PreferenceExample e = (PreferenceExample) tokens.of(pair(10, 100, 5));
    assertThat(e.prompt()).hasSize(10);
    assertThat(e.responses().get(0)).hasSize(54).startsWith(1000);
    assertThat(e.responses().get(1)).hasSize(5);
  }

  @Test
  void labelledResponse_becomesALabelledExample_truncatedTheSameWay() {
    ExampleTokens tokens = new ExampleTokens(null, null, 64, 32, new ModelLimits(5000, 1024, 16));
    LabelledResponse thumbsDown = LabelledResponse.newBuilder().setEventId("t").setPromptIds(range(0, 100)).setResponseIds(range(1000, 1100))
        .setDesirable(false).setWeight(2).build();
    LabelledExample e = (LabelledExample) tokens.of(thumbsDown);
    assertThat(e.desirable()).isFalse();
    assertThat(e.weight()).isEqualTo(2);
    assertThat(e.prompt()).hasSize(32).endsWith(99);
    assertThat(e.response()).hasSize(32).startsWith(1000);
  }

  @Test
  void recordWithAPartMissing_isUnfitAsNoContent_notAnError() {
    // records sent to the pairs topic without ingest: nothing checked them
    ExampleTokens tokens = new ExampleTokens(null, null, 64, 32, new ModelLimits(5000, 1024, 16));
    List<SpecificRecord> missing = List.of(
        LabelledResponse.newBuilder().setEventId("no-text").setDesirable(true).build(),
        LabelledResponse.newBuilder().setEventId("empty-ids").setPromptIds(List.of()).setResponseIds(range(0, 3)).setDesirable(true).build(),
        PreferencePair.newBuilder().setEventId("no-rejected").setPromptIds(range(0, 3)).setChosenIds(range(0, 3)).build(),
        RankedResponses.newBuilder().setEventId("no-responses").setPromptIds(range(0, 3)).build(),
        RankedResponses.newBuilder().setEventId("one-response").setPromptIds(range(0, 3)).setResponsesIds(List.of(range(0, 3))).build());
    for (SpecificRecord record : missing) {
      assertThatThrownBy(() -> tokens.of(record)).as(record.toString()).isInstanceOfSatisfying(UnfitExampleException.class,
          e -> assertThat(e.reason()).isEqualTo(UnfitReason.NO_CONTENT));
    }
  }

  @Test
  void exampleThatFits_isUntouched() {
    ExampleTokens tokens = new ExampleTokens(null, null, 64, 32, new ModelLimits(5000, 1024, 16));
    PreferenceExample e = (PreferenceExample) tokens.of(pair(40, 20, 24));
    assertThat(e.prompt()).hasSize(40);
    assertThat(tokens.truncated()).isZero();
  }
}
