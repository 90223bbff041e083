package io.prefstream.ingest;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/** Ingest's counters, exported on the Prometheus endpoint. */
public final class IngestMetrics {
  private final MeterRegistry registry;

  public IngestMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void accepted(String kind) {
    Counter.builder("prefstream.ingest.accepted").description("valid input records passed on").tag("kind", kind).register(registry).increment();
  }

  void rejected(String kind, Reason reason) {
    Counter.builder("prefstream.ingest.rejected").description("input records sent to the DLQ").tag("kind", kind).tag("reason", reason.code())
        .register(registry).increment();
  }

  void duplicate(String kind) {
    Counter.builder("prefstream.ingest.duplicates").description("records dropped as repeats of an event id").tag("kind", kind).register(registry).increment();
  }

  void pairsFromRatings(int n) {
    Counter.builder("prefstream.ingest.rating.pairs").description("pairs made from ratings").register(registry).increment(n);
  }

  /** The count of one counter, for tests and the benchmark. */
  public double count(String name, String... tags) {
    var search = registry.find(name).tags(tags);
    return search.counters().stream().mapToDouble(Counter::count).sum();
  }
}
