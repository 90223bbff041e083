package io.prefstream.trainer.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The trainer's numbers for Prometheus: the last logged value of each metric, TRL's names with
 * '/' as '.', e.g. {@code prefstream_trainer_rewards_accuracies}; counters of steps, pairs,
 * skipped batches and dead letters.
 */
public final class TrainerMetrics {
  /** Logged values that a counter already exports under the same Prometheus name. */
  private static final Set<String> COUNTED = Set.of("skipped_batches");
  private final MeterRegistry registry;
  private final Map<String, Double> latest = new ConcurrentHashMap<>();
  private final Counter steps;
  private final Counter skipped;
  private final Counter pairs;

  public TrainerMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.steps = Counter.builder("prefstream.trainer.steps").description("optimizer steps").register(registry);
    this.skipped = Counter.builder("prefstream.trainer.skipped.batches").description("batches skipped for a non-finite loss or gradient").register(registry);
    this.pairs = Counter.builder("prefstream.trainer.pairs").description("examples trained on: pairs, rankings and labelled responses").register(registry);
  }

  void stepped(long examples, boolean wasSkipped) {
    steps.increment();
    pairs.increment(examples);
    if (wasSkipped) skipped.increment();
  }

  /** Counts a record sent to the DLQ, by reason: {@code prefstream_trainer_dead_letters_total{reason="bad_weight"}}. */
  void deadLettered(UnfitReason reason) {
    Counter.builder("prefstream.trainer.dead.letters").description("records the model cannot take, sent to the DLQ").tag("reason", reason.code())
        .register(registry).increment();
  }

  /** Sets the gauges to these values, registering a gauge the first time a name appears. */
  void logged(Map<String, Double> values) {
    values.forEach((name, value) -> {
      if (latest.put(name, value) == null && !COUNTED.contains(name)) {
        Gauge.builder("prefstream.trainer." + name.replace('/', '.'), latest, m -> m.getOrDefault(name, Double.NaN)).register(registry);
      }
    });
  }
}
