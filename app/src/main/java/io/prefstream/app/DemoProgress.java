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
 * every few seconds prints one progress line (step, examples/s, loss, reward accuracy or, for single
 * thumbs, KTO's rewards and KL, consumer lag).
 */
final class DemoProgress {
  private static final int PRINT_EVERY_TICKS = 5;

  private final TrainerService trainer;
  private final MeterRegistry meters;
  private final DemoHistory history;
  private final long startNanos = System.nanoTime();
  private long ticks;
  private long recordedStep;
  private double examplesAtLastLine;
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
    double examples = counter("prefstream.trainer.pairs");
    double examplesPerSecond = (examples - examplesAtLastLine) / ((now - lastLineNanos) / 1e9);
    examplesAtLastLine = examples;
    lastLineNanos = now;
    String losses = last.map(DemoProgress::summary).orElse("warming up");
    Gauge lag = meters.find("prefstream.trainer.consumer_lag").gauge();
    System.out.printf(Locale.ROOT, "[%4.0fs] step %d | %.1f examples/s | %s | lag %s | events %d, dlq %.0f%n", (now - startNanos) / 1e9, step, examplesPerSecond,
        losses, lag == null ? "-" : String.format(Locale.ROOT, "%.0f", lag.value()), eventsSent, dlq);
  }

  /**
   * Loss, then what the step's examples can say: reward accuracy over its pairs and rankings; for a
   * step of labelled responses only (single thumbs, KTO) the mean implicit reward of the desirable
   * and of the undesirable ones instead; and KTO's KL estimate z_ref whenever there were labelled ones.
   */
  static String summary(StepMetrics m) {
    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "loss %.3f", m.loss()));
    if (m.pairs() + m.rankings() > 0) {
      line.append(String.format(Locale.ROOT, " | acc %.2f", m.rewardAccuracy()));
    } else if (m.labelled() > 0) {
      line.append(" | reward ").append(signed(m.rewardsChosen())).append(" desirable, ").append(signed(m.rewardsRejected())).append(" undesirable");
    }
    if (m.labelled() > 0) line.append(String.format(Locale.ROOT, " | kl %.3f", m.kl()));
    return line.toString();
  }

  /** A step may hold no desirable (or no undesirable) response: its mean is NaN, shown as "-". */
  private static String signed(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%+.3f", v);
  }

  private double counter(String name) {
    Counter c = meters.find(name).counter();
    return c == null ? 0 : c.count();
  }
}
