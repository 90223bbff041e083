package io.prefstream.ingest;

import java.time.Duration;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.WindowStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drops repeats of an event id seen within the de-duplication horizon, for one kind of feedback.
 * Each accepted id is kept under the horizon-long bucket of its event time, with that time as the
 * value: the three buckets around an event time cover every time within the horizon, and three
 * point look-ups cost less than a range scan (one RocksDB iterator per segment) of the window
 * store. A bucket is read only if {@link SeenIds} says it may hold the id, so a new id is mostly not
 * read at all.
 */
final class EventIdDedup {
  private static final Logger log = LoggerFactory.getLogger(EventIdDedup.class);

  private final long horizon;
  private final SeenIds seenIds;
  private WindowStore<String, Long> seen;

  EventIdDedup(Duration horizon) {
    this.horizon = horizon.toMillis();
    this.seenIds = new SeenIds(horizon.multipliedBy(IngestTopology.DEDUP_BUCKETS_KEPT).toMillis());
  }

  /**
   * Takes the store (restored by now) and loads every id it holds into the filters. Kafka Streams
   * calls a processor's init again after a suspend or a revive, so this starts from the store each
   * time, not from what an earlier life of the task saw.
   *
   * @param name the store and task, for the log line
   */
  void open(WindowStore<String, Long> store, String name) {
    this.seen = store;
    long start = System.nanoTime();
    seenIds.clear();
    long ids = 0;
    try (KeyValueIterator<Windowed<String>, Long> all = store.all()) {
      while (all.hasNext()) {
        Windowed<String> entry = all.next().key;
        seenIds.add(entry.window().start(), entry.key());
        ids++;
      }
    }
    log.info("{}: {} event ids loaded in {} ms", name, ids, (System.nanoTime() - start) / 1_000_000);
  }

  /** Whether the id was accepted at an event time at most the horizon away; if not, it is recorded as accepted now. */
  boolean isRepeat(String eventId, long eventTime) {
    long bucket = bucketOf(eventTime, horizon);
    for (long b = Math.max(0, bucket - horizon); b <= bucket + horizon; b += horizon) {
      if (!seenIds.mayHold(b, eventId)) continue;
      Long earlier = seen.fetch(eventId, b);
      if (earlier != null && Math.abs(eventTime - earlier) <= horizon) return true;
    }
    seen.put(eventId, eventTime, bucket);
    seenIds.add(bucket, eventId);
    return false;
  }

  static long bucketOf(long eventTime, long horizon) {
    return Math.floorDiv(eventTime, horizon) * horizon;
  }
}
