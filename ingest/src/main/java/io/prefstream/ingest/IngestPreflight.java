package io.prefstream.ingest;

import io.prefstream.schemas.KafkaPreflight;
import java.time.Duration;
import java.util.List;

/** Checks before start-up that the brokers answer and every topic exists, with one clear error if not. */
public final class IngestPreflight {
  private IngestPreflight() {}

  public static void check(IngestConfig config, Duration timeout) {
    IngestTopics t = config.topics();
    KafkaPreflight.check(config.passThrough(), List.of(t.feedbackPairs(), t.feedbackRatings(), t.feedbackRankings(), t.preferencePairs(), t.dlq()), "ingest", timeout);
  }
}
