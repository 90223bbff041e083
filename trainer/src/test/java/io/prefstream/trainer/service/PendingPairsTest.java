package io.prefstream.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.trainer.dpo.PreferenceExample;
import io.prefstream.trainer.dpo.TrainingExample;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class PendingPairsTest {
  private static final TopicPartition P0 = new TopicPartition("pairs", 0);

  private final PendingPairs pending = new PendingPairs(new HeldOutSplit(0), new HeldOutEvaluation());

  @Test
  void unfitRecordBehindAPendingPair_waitsForIt_soNoPendingOffsetIsCommitted() {
    pending.add(P0, 0, example("a"), 1);
    pending.addUnfit(unfit(1, 100));
    pending.passUnfitAtFront();
    assertThat(pending.covered().isEmpty()).isTrue();
    assertThat(pending.takeBatch(1)).extracting(TrainingExample::id).containsExactly("a");
    assertThat(pending.covered().toCommit()).isEqualTo(Map.of(P0, new OffsetAndMetadata(2)));
    assertThat(pending.deadLetters()).extracting(UnfitRecord::sourceOffset).containsExactly(1L);
  }

  @Test
  void unfitRecordsAtTheFront_areCoveredAtOnce_andTheirBytesCounted_untilACheckpoint() {
    pending.addUnfit(unfit(0, 100));
    pending.addUnfit(unfit(1, 50));
    pending.passUnfitAtFront();
    assertThat(pending.covered().toCommit()).isEqualTo(Map.of(P0, new OffsetAndMetadata(2)));
    assertThat(pending.deadLetterBytes()).isEqualTo(150 + 2 * 2);
    pending.checkpointed();
    assertThat(pending.deadLetters()).isEmpty();
    assertThat(pending.deadLetterBytes()).isZero();
  }

  private static PreferenceExample example(String id) {
    return PreferenceExample.pair(id, new int[] {1}, new int[] {2}, new int[] {3});
  }

  private static UnfitRecord unfit(long offset, int bytes) {
    return new UnfitRecord(("k" + offset).getBytes(StandardCharsets.UTF_8), new byte[bytes],
        new UnfitExampleException(UnfitReason.BAD_WEIGHT, "weight NaN"), P0.topic(), P0.partition(), offset);
  }
}
