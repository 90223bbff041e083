package io.prefstream.ingest;

import java.time.Duration;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ProcessorContext;

/**
 * Asks Kafka Streams to commit a task's transaction as soon as its input has been quiet for a
 * tick, instead of waiting out {@code commit.interval.ms}: what ingest accepted becomes readable
 * {@code read_committed} at once when a burst ends, while under a steady flow (never a quiet tick)
 * commits stay as rare as the interval makes them. A commit is safe between any two records, so
 * exactly-once is unchanged. Public for {@code bench ingest}, whose Kafka Streams ceilings commit as
 * ingest does.
 */
public final class IdleCommit {
  private final Duration tick;
  private long processed;
  private long processedAtLastTick;
  private long processedAtLastRequest;

  /** @param tick how long the input must be quiet; zero: never commit early */
  public IdleCommit(Duration tick) {
    this.tick = tick;
  }

  public void start(ProcessorContext<?, ?> context) {
    if (tick.isZero()) return;
    context.schedule(tick, PunctuationType.WALL_CLOCK_TIME, now -> {
      if (processed == processedAtLastTick && processed > processedAtLastRequest) {
        context.commit();
        processedAtLastRequest = processed;
      }
      processedAtLastTick = processed;
    });
  }

  /** Notes one input record processed. */
  public void processed() {
    processed++;
  }
}
