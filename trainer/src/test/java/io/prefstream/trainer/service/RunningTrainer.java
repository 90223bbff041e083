package io.prefstream.trainer.service;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/** A trainer on its own thread until closed, and what it threw if it stopped by itself. */
final class RunningTrainer implements AutoCloseable {
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final Thread thread;

  private RunningTrainer(TrainerConfig config, Path work) {
    thread = new Thread(() -> {
      try (TrainerService service = new TrainerService(config, work, Clock.systemUTC(), new TrainerMetrics(new SimpleMeterRegistry()))) {
        service.run(running::get);
      } catch (RuntimeException e) {
        failure.set(e);
      }
    });
  }

  static RunningTrainer start(TrainerConfig config, Path work) {
    RunningTrainer trainer = new RunningTrainer(config, work);
    trainer.thread.start();
    return trainer;
  }

  boolean isAlive() {
    return thread.isAlive();
  }

  Optional<Throwable> failure() {
    return Optional.ofNullable(failure.get());
  }

  /** Asks it to stop (it publishes a last checkpoint of what it covers) and waits for it. */
  @Override
  public void close() throws InterruptedException {
    running.set(false);
    thread.join(60_000);
  }
}
