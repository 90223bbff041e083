package io.prefstream.app;

import io.prefstream.ingest.IngestMetrics;
import io.prefstream.ingest.Reason;

/**
 * Where the demo's feedback events went. Every event sent is, once ingest has read it, exactly one
 * of: accepted, dropped as a repeat of an event id, or dead-lettered at admission; the rest are
 * still in flight. An accepted rating can still reach the DLQ later, when its pairing window has
 * closed or is full: counted apart, since it was accepted first.
 */
record IngestTally(long sent, long accepted, long repeats, long deadLettered, long ratingsDeadLetteredLater) {

  static IngestTally of(long sent, IngestMetrics metrics) {
    long later = rejected(metrics, Reason.LATE_RATING) + rejected(metrics, Reason.TOO_MANY_RATINGS);
    return new IngestTally(sent, (long) metrics.count("prefstream.ingest.accepted"), (long) metrics.count("prefstream.ingest.duplicates"),
        (long) metrics.count("prefstream.ingest.rejected") - later, later);
  }

  private static long rejected(IngestMetrics metrics, Reason reason) {
    return (long) metrics.count("prefstream.ingest.rejected", "reason", reason.code());
  }

  /** Sent but not read by ingest yet. */
  long inFlight() {
    return sent - accepted - repeats - deadLettered;
  }
}
