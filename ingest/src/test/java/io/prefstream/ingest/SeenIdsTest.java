package io.prefstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SeenIdsTest {
  private static final long HOUR = 3_600_000L;

  @Test
  void everyAddedIdMayBeHeld_andFewOthers_pastTheFirstFiltersCapacity() {
    SeenIds ids = new SeenIds(3 * HOUR);
    int n = 100_000; // several filters of doubling capacity in one bucket
    IntStream.range(0, n).forEach(i -> ids.add(HOUR, "event-" + i));

    assertThat(IntStream.range(0, n).allMatch(i -> ids.mayHold(HOUR, "event-" + i))).isTrue();
    long falsePositives = IntStream.range(n, 2 * n).filter(i -> ids.mayHold(HOUR, "event-" + i)).count();
    assertThat(falsePositives).isLessThan(n / 50);
    assertThat(ids.mayHold(2 * HOUR, "event-1")).isFalse(); // another bucket
  }

  @Test
  void bucketsFallingBehindTheKeptSpan_areNotCovered_soTheStoreIsRead() {
    SeenIds ids = new SeenIds(3 * HOUR);
    ids.add(0, "old");
    ids.add(HOUR, "a");
    assertThat(ids.mayHold(0, "never-added")).isFalse(); // covered and empty of it
    assertThat(ids.mayHold(HOUR, "a")).isTrue();

    ids.add(4 * HOUR, "new"); // bucket 0 is now more than 3 h behind the newest
    assertThat(ids.mayHold(0, "never-added")).isTrue();
    assertThat(ids.mayHold(HOUR, "a")).isTrue();
    assertThat(ids.mayHold(2 * HOUR, "b")).isFalse();

    ids.add(0, "late"); // an id put under an uncovered bucket is not tracked: that bucket is read anyway
    assertThat(ids.mayHold(0, "anything")).isTrue();

    ids.clear();
    assertThat(ids.mayHold(0, "never-added")).isFalse();
  }
}
