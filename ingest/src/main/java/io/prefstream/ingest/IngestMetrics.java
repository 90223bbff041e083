package io.prefstream.ingest;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Ingest's counters, exported on the Prometheus endpoint. Each counter is looked up once and kept:
 * registering it again per record (building its id and tags) cost as much as a record's validation.
 */
public final class IngestMetrics {
  private final MeterRegistry registry;
  private final Map<String, Counter> accepted = new ConcurrentHashMap<>();
  private final Map<String, Counter> duplicates = new ConcurrentHashMap<>();
  private final Map<String, Map<Reason, Counter>> rejected = new ConcurrentHashMap<>();
  private final Counter ratingPairs;

  public IngestMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.ratingPairs = Counter.builder("prefstream.ingest.rating.pairs").description("pairs made from ratings").register(registry);
  }

  void accepted(String kind) {
    accepted.computeIfAbsent(kind, k -> Counter.builder("prefstream.ingest.accepted").description("valid input records passed on").tag("kind", k)
        .register(registry)).increment();
  }

  void rejected(String kind, Reason reason) {
    rejected.computeIfAbsent(kind, k -> new ConcurrentHashMap<>()).computeIfAbsent(reason, r -> Counter.builder("prefstream.ingest.rejected")
        .description("input records sent to the DLQ").tag("kind", kind).tag("reason", r.code()).register(registry)).increment();
  }

  void duplicate(String kind) {
    duplicates.computeIfAbsent(kind, k -> Counter.builder("prefstream.ingest.duplicates").description("records dropped as repeats of an event id")
        .tag("kind", k).register(registry)).increment();
  }

  void pairsFromRatings(int n) {
    ratingPairs.increment(n);
  }

  /** The count of one counter, for tests and the benchmark. */
  public double count(String name, String... tags) {
    var search = registry.find(name).tags(tags);
    return search.counters().stream().mapToDouble(Counter::count).sum();
  }
}
