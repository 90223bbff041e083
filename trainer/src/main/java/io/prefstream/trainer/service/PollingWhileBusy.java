package io.prefstream.trainer.service;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs slow work (a training step, a checkpoint) on a worker thread while the calling thread keeps
 * polling its consumer, so that a step of minutes never takes the consumer past {@code
 * max.poll.interval.ms} and out of its group (which would fail the next checkpoint's offset
 * commit). The consumer stays on the calling thread: KafkaConsumer is not thread-safe.
 */
final class PollingWhileBusy implements AutoCloseable {
  private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "trainer-worker");
    t.setDaemon(true);
    return t;
  });

  /**
   * @param poll one poll of the consumer, returning within a fraction of max.poll.interval.ms
   * @return what the work returned
   * @throws RuntimeException what the work threw, as it threw it
   */
  <T> T run(Callable<T> work, Runnable poll) {
    Future<T> done = worker.submit(work);
    while (!done.isDone()) poll.run();
    try {
      return done.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) throw r;
      if (e.getCause() instanceof Error err) throw err;
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      done.cancel(true);
      throw new IllegalStateException("interrupted while waiting for the trainer's worker", e);
    }
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }
}
