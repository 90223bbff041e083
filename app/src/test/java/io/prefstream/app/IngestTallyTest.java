package io.prefstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.ingest.IngestMetrics;
import org.junit.jupiter.api.Test;

class IngestTallyTest {

  @Test
  void everyEventSentIsCountedOnce_ratingsDeadLetteredAfterAcceptanceApart() {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    meters.counter("prefstream.ingest.accepted", "kind", "pairs").increment(5);
    meters.counter("prefstream.ingest.accepted", "kind", "ratings").increment(3);
    meters.counter("prefstream.ingest.duplicates", "kind", "pairs").increment(1);
    meters.counter("prefstream.ingest.rejected", "kind", "pairs", "reason", "undeserializable").increment(2);
    meters.counter("prefstream.ingest.rejected", "kind", "ratings", "reason", "late_rating").increment(1); // one of the 3 accepted ratings

    IngestTally tally = IngestTally.of(13, new IngestMetrics(meters));

    assertThat(tally).isEqualTo(new IngestTally(13, 8, 1, 2, 1));
    assertThat(tally.inFlight()).isEqualTo(2);
    assertThat(tally.accepted() + tally.repeats() + tally.deadLettered() + tally.inFlight()).isEqualTo(tally.sent());
  }
}
