package io.prefstream.app;

import io.prefstream.publisher.RolloutAgent;
import io.prefstream.trainer.model.ModelFolder;
import io.prefstream.trainer.service.PublishedCheckpoint;
import io.prefstream.trainer.service.TrainerService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Follows the checkpoints the trainer publishes, once the rollout agent has written them to the
 * serving folder (the weights a serving fleet loads), measures each with the probe and prints one
 * line. Falling behind, it measures only the newest.
 */
final class CheckpointProbing implements Runnable {
  private static final long IDLE_MILLIS = 200;

  private final TrainerService trainer;
  private final Path serving;
  private final PolicyProbe probe;
  private final DemoHistory history;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private volatile long measured;

  CheckpointProbing(TrainerService trainer, Path serving, PolicyProbe probe, DemoHistory history) {
    this.trainer = trainer;
    this.serving = serving;
    this.probe = probe;
    this.history = history;
  }

  @Override
  public void run() {
    try {
      while (running.get()) {
        if (!measureNewest()) Thread.sleep(IDLE_MILLIS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * One checkpoint's line; the held-out accuracy only where there was one: single thumbs (KTO)
   * give no held-out pairs.
   */
  static String summary(PublishedCheckpoint c, double heldOutAccuracy, PolicyProbe.Measurement m, PolicyProbe.Measurement reference) {
    String heldOut = Double.isNaN(heldOutAccuracy) ? "" : String.format(Locale.ROOT, "held-out acc %.2f | ", heldOutAccuracy);
    return String.format(Locale.ROOT, "checkpoint v%d (step %d): %sground-truth reward of samples %+.3f (reference %+.3f) | KL %.2f nats | e.g. \"%s\"",
        c.version(), c.step(), heldOut, m.meanReward(), reference.meanReward(), m.kl(), m.example());
  }

  /** The newest version measured so far, 0 before the first. */
  long measured() {
    return measured;
  }

  void stop() {
    running.set(false);
  }

  private boolean measureNewest() {
    Optional<PublishedCheckpoint> next = trainer.lastCheckpoint().filter(c -> c.version() > measured);
    if (next.isEmpty()) return false;
    PublishedCheckpoint c = next.get();
    Path folder = serving.resolve(Long.toString(c.version()));
    if (!Files.isRegularFile(folder.resolve(ModelFolder.CONFIG))) return false; // not rolled out yet
    PolicyProbe.Measurement m = probe.policy(folder);
    double heldOut = c.metrics().getOrDefault(RolloutAgent.ACCURACY_METRIC, Double.NaN);
    history.add(new DemoHistory.CheckpointPoint(c.version(), c.step(), heldOut, m));
    System.out.println(summary(c, heldOut, m, history.reference()));
    measured = c.version();
    return true;
  }
}
