package io.prefstream.ingest;

import io.prefstream.schemas.ResponseRating;
import io.prefstream.schemas.serde.JsonRecords;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Lets a rating into its prompt's pairing window, or sends it to the DLQ (the rating as JSON, with
 * its original topic, partition and offset):
 *
 * <ul>
 *   <li>{@code late_rating}: the window has already closed (stream time past window end + grace);
 *       the windowed aggregation would drop it without a word;
 *   <li>{@code too_many_ratings}: the window already holds {@code ratings.max.per.prompt} ratings,
 *       so one busy prompt cannot grow the state without bound.
 * </ul>
 */
final class RatingWindowGate implements Processor<String, ResponseRating, String, Admitted> {
  static final String SOURCE_TOPIC = "prefstream.source.topic";
  static final String SOURCE_PARTITION = "prefstream.source.partition";
  static final String SOURCE_OFFSET = "prefstream.source.offset";

  private final RatingPairing pairing;
  private final String countStore;
  private final IngestMetrics metrics;
  private ProcessorContext<String, Admitted> context;
  /** Ratings let in so far, by prompt id and window start. */
  private WindowStore<String, Integer> counts;

  RatingWindowGate(RatingPairing pairing, String countStore, IngestMetrics metrics) {
    this.pairing = pairing;
    this.countStore = countStore;
    this.metrics = metrics;
  }

  @Override
  public void init(ProcessorContext<String, Admitted> context) {
    this.context = context;
    this.counts = context.getStateStore(countStore);
  }

  @Override
  public void process(Record<String, ResponseRating> in) {
    long size = pairing.window().toMillis();
    long windowStart = in.timestamp() - Math.floorMod(in.timestamp(), size);
    long closedAt = windowStart + size + pairing.grace().toMillis();
    ResponseRating r = in.value();
    if (context.currentStreamTimeMs() >= closedAt) {
      reject(in, Reason.LATE_RATING, "rating of prompt " + r.getPromptId() + " at " + in.timestamp() + " arrived after its window closed at "
          + closedAt + " (stream time " + context.currentStreamTimeMs() + ")");
      return;
    }
    Integer held = counts.fetch(in.key(), windowStart);
    int n = held == null ? 0 : held;
    if (n >= pairing.maxRatingsPerPrompt()) {
      reject(in, Reason.TOO_MANY_RATINGS, "prompt " + r.getPromptId() + " already has " + n + " ratings in the window from " + windowStart
          + "; the limit is " + pairing.maxRatingsPerPrompt() + " (" + IngestConfig.RATINGS_MAX_PER_PROMPT + ")");
      return;
    }
    counts.put(in.key(), n + 1, windowStart);
    context.forward(in.withValue(new Admitted.Accepted(r)));
  }

  private void reject(Record<String, ResponseRating> in, Reason reason, String detail) {
    ResponseRating r = in.value();
    metrics.rejected("ratings", reason);
    DeadLetter letter = new DeadLetter(in.key() == null ? null : in.key().getBytes(StandardCharsets.UTF_8),
        JsonRecords.write(r), new Rejection(reason, detail),
        r.getMetadata().getOrDefault(SOURCE_TOPIC, "?"),
        Integer.parseInt(r.getMetadata().getOrDefault(SOURCE_PARTITION, "-1")),
        Long.parseLong(r.getMetadata().getOrDefault(SOURCE_OFFSET, "-1")));
    context.forward(new Record<String, Admitted>(null, new Admitted.Rejected(letter), in.timestamp()));
  }
}
