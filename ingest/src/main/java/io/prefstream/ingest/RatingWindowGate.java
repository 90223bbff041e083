package io.prefstream.ingest;

import io.prefstream.schemas.ResponseRating;
import io.prefstream.schemas.serde.JsonRecords;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
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
 *       so one busy prompt cannot grow the state without bound;
 *   <li>{@code window_too_large}: the rating would take the bytes the window stores past
 *       {@link RatingPairing#maxWindowBytes()}: a window whose changelog record no request can
 *       carry would stop ingest, and replay the same ratings into the same failure after a restart.
 * </ul>
 */
final class RatingWindowGate implements Processor<String, ResponseRating, String, Admitted> {
  static final String SOURCE_TOPIC = "prefstream.source.topic";
  static final String SOURCE_PARTITION = "prefstream.source.partition";
  static final String SOURCE_OFFSET = "prefstream.source.offset";

  /** What a prompt's window holds so far: ratings, and bytes at most of its stored JSON ({@link PromptRatings#storedBytes}). */
  record Held(int ratings, long bytes) {
    static final Held NONE = new Held(0, 0);

    Held plus(int ratingBytes) {
      return new Held(ratings + 1, bytes + ratingBytes);
    }
  }

  private final RatingPairing pairing;
  private final String heldStore;
  private final IngestMetrics metrics;
  private ProcessorContext<String, Admitted> context;
  /** What each window holds, by prompt id and window start. */
  private WindowStore<String, Held> held;

  RatingWindowGate(RatingPairing pairing, String heldStore, IngestMetrics metrics) {
    this.pairing = pairing;
    this.heldStore = heldStore;
    this.metrics = metrics;
  }

  @Override
  public void init(ProcessorContext<String, Admitted> context) {
    this.context = context;
    this.held = context.getStateStore(heldStore);
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
    Held window = Objects.requireNonNullElse(held.fetch(in.key(), windowStart), Held.NONE);
    if (window.ratings() >= pairing.maxRatingsPerPrompt()) {
      reject(in, Reason.TOO_MANY_RATINGS, "prompt " + r.getPromptId() + " already has " + window.ratings() + " ratings in the window from " + windowStart
          + "; the limit is " + pairing.maxRatingsPerPrompt() + " (" + IngestConfig.RATINGS_MAX_PER_PROMPT + ")");
      return;
    }
    int bytes = PromptRatings.storedBytes(r, window.ratings() == 0);
    if (window.bytes() + bytes > pairing.maxWindowBytes()) {
      reject(in, Reason.WINDOW_TOO_LARGE, "prompt " + r.getPromptId() + "'s window from " + windowStart + " stores " + window.bytes() + " bytes of "
          + window.ratings() + " ratings; this one would add " + bytes + ", past the " + pairing.maxWindowBytes()
          + " one window may store (half of the producer's max.request.size less " + IngestConfig.RECORD_HEADROOM_BYTES + ")");
      return;
    }
    held.put(in.key(), window.plus(bytes), windowStart);
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
