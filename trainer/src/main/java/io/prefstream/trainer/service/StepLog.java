package io.prefstream.trainer.service;

import io.prefstream.trainer.dpo.StepMetrics;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The numbers logged every few steps: the last step's metrics and duration, plus throughput since the last log line. */
final class StepLog {
  private static final Logger log = LoggerFactory.getLogger(StepLog.class);
  private long loggedAtNanos = System.nanoTime();
  private long examples;
  private long tokens;
  private long skipped;
  private double lastStepSeconds;

  void stepped(long step, StepMetrics m, double seconds) {
    lastStepSeconds = seconds;
    examples += m.examples();
    tokens += m.tokens();
    if (m.skipped()) {
      skipped++;
      log.warn("step {} skipped: non-finite loss or gradient (loss {}, grad norm {})", step, m.loss(), m.gradNorm());
    }
  }

  /** Steps skipped for a non-finite loss or gradient, since start. */
  long skipped() {
    return skipped;
  }

  /** Logs one line and returns its values (TRL's names plus throughput and lag); restarts the throughput count. */
  Map<String, Double> log(long step, StepMetrics m, long consumerLag) {
    double seconds = Math.max(1e-9, (System.nanoTime() - loggedAtNanos) / 1e9);
    Map<String, Double> values = new LinkedHashMap<>(m.asMap());
    values.put("pairs_per_s", examples / seconds);
    values.put("tokens_per_s", tokens / seconds);
    values.put("consumer_lag", (double) consumerLag);
    values.put("skipped_batches", (double) skipped);
    values.put("step_seconds", lastStepSeconds);
    loggedAtNanos = System.nanoTime();
    examples = 0;
    tokens = 0;
    log.info("step {} loss {} acc {} margin {} grad_norm {} lr {} pairs/s {} tokens/s {} lag {}", step, fmt(m.loss()), fmt(m.rewardAccuracy()),
        fmt(m.rewardMargin()), fmt(m.gradNorm()), m.learningRate(), fmt(values.get("pairs_per_s")), fmt(values.get("tokens_per_s")), consumerLag);
    return values;
  }

  static String fmt(double v) {
    return String.format(Locale.ROOT, "%.4f", v);
  }
}
