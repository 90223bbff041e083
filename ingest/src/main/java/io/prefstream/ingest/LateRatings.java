package io.prefstream.ingest;

import io.prefstream.schemas.ResponseRating;
import io.prefstream.schemas.serde.JsonRecords;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Catches ratings whose pairing window has already closed (stream time past window end + grace):
 * the windowed aggregation would drop them without a word, so they go to the DLQ as
 * {@code late_rating} (the rating as JSON, with its original topic, partition and offset).
 */
final class LateRatings implements Processor<String, ResponseRating, String, Admitted> {
  static final String SOURCE_TOPIC = "prefstream.source.topic";
  static final String SOURCE_PARTITION = "prefstream.source.partition";
  static final String SOURCE_OFFSET = "prefstream.source.offset";

  private final RatingPairing pairing;
  private final IngestMetrics metrics;
  private ProcessorContext<String, Admitted> context;

  LateRatings(RatingPairing pairing, IngestMetrics metrics) {
    this.pairing = pairing;
    this.metrics = metrics;
  }

  @Override
  public void init(ProcessorContext<String, Admitted> context) {
    this.context = context;
  }

  @Override
  public void process(Record<String, ResponseRating> in) {
    long size = pairing.window().toMillis();
    long windowEnd = in.timestamp() - Math.floorMod(in.timestamp(), size) + size;
    long closedAt = windowEnd + pairing.grace().toMillis();
    if (context.currentStreamTimeMs() < closedAt) {
      context.forward(in.withValue(new Admitted.Accepted(in.value())));
      return;
    }
    ResponseRating r = in.value();
    metrics.rejected("ratings", Reason.LATE_RATING);
    String detail = "rating of prompt " + r.getPromptId() + " at " + in.timestamp() + " arrived after its window closed at " + closedAt
        + " (stream time " + context.currentStreamTimeMs() + ")";
    DeadLetter letter = new DeadLetter(in.key() == null ? null : in.key().getBytes(java.nio.charset.StandardCharsets.UTF_8),
        JsonRecords.write(r), new Rejection(Reason.LATE_RATING, detail),
        r.getMetadata().getOrDefault(SOURCE_TOPIC, "?"),
        Integer.parseInt(r.getMetadata().getOrDefault(SOURCE_PARTITION, "-1")),
        Long.parseLong(r.getMetadata().getOrDefault(SOURCE_OFFSET, "-1")));
    context.forward(new Record<String, Admitted>(null, new Admitted.Rejected(letter), in.timestamp()));
  }
}
