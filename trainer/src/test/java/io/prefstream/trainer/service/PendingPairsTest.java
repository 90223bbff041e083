package io.prefstream.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.trainer.dpo.PreferenceExample;
import io.prefstream.trainer.dpo.TrainingExample;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class PendingPairsTest {
  private static final TopicPartition P0 = new TopicPartition("pairs", 0);

  private static final long MAX_BYTES = 1000;

  private final PendingPairs pending = new PendingPairs(new HeldOutSplit(0), new HeldOutEvaluation(), MAX_BYTES);

  @Test
  void unfitRecordBehindAPendingPair_waitsForIt_soNoPendingOffsetIsCommitted() {
    pending.add(P0, 0, example("a"), 1, 10);
    pending.addUnfit(unfit(1, 100));
    pending.passUntrainableAtFront();
    assertThat(pending.covered().isEmpty()).isTrue();
    assertThat(pending.takeBatch(1)).extracting(TrainingExample::id).containsExactly("a");
    assertThat(pending.covered().toCommit()).isEqualTo(Map.of(P0, new OffsetAndMetadata(2)));
    assertThat(pending.deadLetters()).extracting(UnfitRecord::sourceOffset).containsExactly(1L);
  }

  @Test
  void unfitRecordsAtTheFront_areCoveredAtOnce_andTheirBytesCounted_untilACheckpoint() {
    pending.addUnfit(unfit(0, 100));
    pending.addUnfit(unfit(1, 50));
    pending.passUntrainableAtFront();
    assertThat(pending.covered().toCommit()).isEqualTo(Map.of(P0, new OffsetAndMetadata(2)));
    assertThat(pending.deadLetterBytes()).isEqualTo(150 + 2 * 2);
    pending.checkpointed();
    assertThat(pending.deadLetters()).isEmpty();
    assertThat(pending.deadLetterBytes()).isZero();
  }

  @Test
  void unfitRecordsPastTheByteBound_behindFewerThanABatch_makeAPartialBatchReady_andTakingItFreesThem() {
    pending.add(P0, 0, example("a"), 1, 10);
    for (int offset = 1; offset <= 9; offset++) pending.addUnfit(unfit(offset, 100));
    assertThat(pending.isFull()).as("10 + 9 x 102 bytes < 1000").isFalse();
    assertThat(pending.hasBatch(4)).isFalse();
    pending.addUnfit(unfit(10, 100));
    assertThat(pending.isFull()).isTrue();
    assertThat(pending.hasBatch(4)).as("one trainable example is a batch now").isTrue();
    assertThat(pending.takeBatch(4)).extracting(TrainingExample::id).containsExactly("a");
    assertThat(pending.isFull()).isFalse();
    assertThat(pending.covered().toCommit()).isEqualTo(Map.of(P0, new OffsetAndMetadata(11)));
    assertThat(pending.deadLetters()).hasSize(10);
  }

  @Test
  void heldOutPairsAtTheFront_goToTheEvaluationAtOnce_soTheyNeverWaitForABatch() {
    HeldOutEvaluation evaluation = new HeldOutEvaluation();
    HeldOutSplit split = new HeldOutSplit(0.5);
    List<String> heldOut = IntStream.range(0, 100).mapToObj(i -> "e" + i).filter(split::isHeldOut).limit(2).toList();
    PendingPairs allHeldOut = new PendingPairs(split, evaluation, MAX_BYTES);
    allHeldOut.add(P0, 0, example(heldOut.get(0)), 1, 600);
    allHeldOut.add(P0, 1, example(heldOut.get(1)), 1, 600);
    assertThat(allHeldOut.isFull()).isTrue();
    allHeldOut.passUntrainableAtFront();
    assertThat(allHeldOut.isFull()).isFalse();
    assertThat(allHeldOut.trainable()).isZero();
    assertThat(allHeldOut.covered().toCommit()).isEqualTo(Map.of(P0, new OffsetAndMetadata(2)));
    assertThat(evaluation.examples()).extracting(PreferenceExample::id).isEqualTo(heldOut);
  }

  private static PreferenceExample example(String id) {
    return PreferenceExample.pair(id, new int[] {1}, new int[] {2}, new int[] {3});
  }

  private static UnfitRecord unfit(long offset, int bytes) {
    return new UnfitRecord(("k" + offset).getBytes(StandardCharsets.UTF_8), new byte[bytes],
        new UnfitExampleException(UnfitReason.BAD_WEIGHT, "weight NaN"), P0.topic(), P0.partition(), offset);
  }
}
