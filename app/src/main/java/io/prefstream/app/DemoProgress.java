package io.prefstream.app;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.prefstream.trainer.dpo.StepMetrics;
import io.prefstream.trainer.service.TrainerService;
import java.util.Locale;
import java.util.Optional;

/**
 * The demo's live view: each second it records the trainer's last step into the history, and
 * every few seconds prints one progress line (step, pairs/s, loss, reward accuracy, consumer lag).
 */
final class DemoProgress {
  private static final int PRINT_EVERY_TICKS = 5;

  private final TrainerService trainer;
  private final MeterRegistry meters;
  private final DemoHistory history;
  private final long startNanos = System.nanoTime();
  private long ticks;
  private long recordedStep;
  private double pairsAtLastLine;
  private long lastLineNanos = startNanos;

  DemoProgress(TrainerService trainer, MeterRegistry meters, DemoHistory history) {
    this.trainer = trainer;
    this.meters = meters;
    this.history = history;
  }

  /** Call about once a second. */
  void tick(long eventsSent, double dlq) {
    Optional<StepMetrics> last = trainer.lastMetrics();
    long step = trainer.steps();
    if (last.isPresent() && step > recordedStep) {
      history.add(new DemoHistory.StepPoint(step, last.get().loss(), last.get().rewardAccuracy()));
      recordedStep = step;
    }
    if (++ticks % PRINT_EVERY_TICKS != 0) return;
    long now = System.nanoTime();
    double pairs = counter("prefstream.trainer.pairs");
    double pairsPerSecond = (pairs - pairsAtLastLine) / ((now - lastLineNanos) / 1e9);
    pairsAtLastLine = pairs;
    lastLineNanos = now;
    String losses = last.map(m -> String.format(Locale.ROOT, "loss %.3f | acc %.2f", m.loss(), m.rewardAccuracy())).orElse("warming up");
    Gauge lag = meters.find("prefstream.trainer.consumer_lag").gauge();
    System.out.printf(Locale.ROOT, "[%4.0fs] step %d | %.1f pairs/s | %s | lag %s | events %d, dlq %.0f%n", (now - startNanos) / 1e9, step, pairsPerSecond,
        losses, lag == null ? "-" : String.format(Locale.ROOT, "%.0f", lag.value()), eventsSent, dlq);
  }

  private double counter(String name) {
    Counter c = meters.find(name).counter();
    return c == null ? 0 : c.count();
  }
}
