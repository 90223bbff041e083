package io.prefstream.app;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Ctrl-C and SIGTERM for a long-running command: the JVM's shutdown asks the work to stop, then
 * waits until the command says it has finished (a last checkpoint published, clients closed).
 */
final class StopSignal implements AutoCloseable {
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final CountDownLatch finished = new CountDownLatch(1);

  private StopSignal() {}

  static StopSignal install(String name) {
    StopSignal signal = new StopSignal();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      signal.running.set(false);
      try {
        signal.finished.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, name + "-stop"));
    return signal;
  }

  boolean running() {
    return running.get();
  }

  /** Asks the work to stop, as a signal would. */
  void stop() {
    running.set(false);
  }

  /** The command has finished: the shutdown may go on. */
  @Override
  public void close() {
    finished.countDown();
  }
}
