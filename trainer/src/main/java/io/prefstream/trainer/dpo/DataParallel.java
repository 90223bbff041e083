package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.jni.JniUtils;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.optim.Fanout;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.function.ToIntFunction;
import java.util.function.ToLongFunction;

/**
 * Runs a step's micro-batches on several workers at once, each computing on its own model view
 * ({@link CausalLm#forWorker}) with PyTorch's ops on its own thread: on a CPU with a few cores,
 * several single-threaded passes at once use the cores better than one pass whose small matrix
 * products are split between threads.
 *
 * <p>Worker 0 is the calling thread, the others are this object's threads. Which micro-batch runs
 * where depends on the micro-batches alone (heaviest first, each to the least loaded worker), and
 * each worker runs its share in a fixed order, so every worker's gradient is the same sum from run
 * to run. When there are fewer micro-batches than workers, each is split into as many parts as
 * there are workers, unless the loss compares examples within a micro-batch (then a split would
 * change the loss).
 *
 * <p>The same workers share out the update's per-parameter work ({@link Fanout}), which on one
 * thread would leave the other cores idle between steps.
 */
final class DataParallel implements Fanout, AutoCloseable {
  /** One worker's job on one part of the step. */
  @FunctionalInterface
  interface Work<T> {
    void run(CausalLm model, List<T> part, int worker);
  }

  private final int workers;
  private final ExecutorService threads;

  /** @param workers how many passes may run at once, at least 1 */
  DataParallel(int workers) {
    if (workers < 1) throw new IllegalArgumentException("workers must be at least 1, got " + workers);
    this.workers = workers;
    AtomicInteger made = new AtomicInteger();
    this.threads = workers == 1 ? null : Executors.newFixedThreadPool(workers - 1, task -> {
      Thread thread = new Thread(task, "dpo-worker-" + made.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    });
  }

  int workers() {
    return workers;
  }

  /**
   * Runs {@code work} on every part of {@code microBatches}, worker w on {@code models.get(w)}, and
   * returns when all are done (failures as {@link #onWorkers}).
   *
   * @param models one per worker in use: the policy itself first, then its worker views
   * @param tokens the tokens an example computes, to balance the workers
   * @param splittable whether a micro-batch may be split in parts
   */
  <T> void run(List<List<T>> microBatches, List<CausalLm> models, ToIntFunction<T> tokens, boolean splittable, Work<T> work) {
    List<List<List<T>>> shares = shares(microBatches, models.size(), tokens, splittable);
    onWorkers(shares.size(), worker -> {
      for (List<T> part : shares.get(worker)) work.run(models.get(worker), part, worker);
    });
  }

  /** Runs {@code work} on the items shared out among the workers, heaviest first to the least loaded. */
  @Override
  public <T> void each(List<T> items, ToLongFunction<T> weight, Consumer<T> work) {
    List<List<T>> shares = spread(items, workers, weight);
    onWorkers(shares.size(), worker -> shares.get(worker).forEach(work));
  }

  /**
   * Runs {@code job} for workers 0 to {@code count - 1} at once, worker 0 on the calling thread,
   * and returns when all are done. The first failure is thrown once every worker has stopped (the
   * others' suppressed in it), so no worker still computes on arrays the caller frees.
   */
  private void onWorkers(int count, IntConsumer job) {
    if (count == 0) return;
    if (count > 1 && threads.isShutdown()) throw new IllegalStateException("the step's workers are closed");
    List<Future<?>> others = new ArrayList<>();
    for (int w = 1; w < count; w++) {
      int worker = w;
      others.add(threads.submit(() -> {
        JniUtils.setGradMode(false); // PyTorch's grad mode is per thread, and on in a new one
        try (NDScope scope = new NDScope()) {
          job.accept(worker);
        }
      }));
    }
    Throwable failure = null;
    boolean recording = JniUtils.isGradMode();
    JniUtils.setGradMode(false); // as on the other workers: a graph only inside a work's gradient collector
    try {
      job.accept(0);
    } catch (RuntimeException | Error e) {
      failure = e;
    } finally {
      JniUtils.setGradMode(recording);
    }
    for (Future<?> other : others) failure = joined(other, failure);
    if (failure instanceof RuntimeException e) throw e;
    if (failure instanceof Error e) throw e;
    if (failure != null) throw new IllegalStateException("a step's worker failed", failure);
  }

  /** Waits for {@code other} however long it takes, interrupted or not; returns the first failure. */
  private static Throwable joined(Future<?> other, Throwable failure) {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          other.get();
          return failure;
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          if (failure == null) return e.getCause();
          failure.addSuppressed(e.getCause());
          return failure;
        }
      }
    } finally {
      if (interrupted) Thread.currentThread().interrupt();
    }
  }

  /** Each worker's parts: the micro-batches (split when fewer than the workers), heaviest first to the least loaded. */
  static <T> List<List<List<T>>> shares(List<List<T>> microBatches, int workers, ToIntFunction<T> tokens, boolean splittable) {
    List<List<T>> parts = new ArrayList<>();
    for (List<T> micro : microBatches) {
      if (splittable && microBatches.size() < workers) parts.addAll(spread(micro, workers, tokens::applyAsInt));
      else parts.add(micro);
    }
    return spread(parts, workers, part -> weight(part, tokens));
  }

  /** {@code items} in up to n groups of similar weight: heaviest first, each to the lightest group so far. */
  private static <T> List<List<T>> spread(List<T> items, int n, ToLongFunction<T> weight) {
    List<T> heaviestFirst = new ArrayList<>(items);
    heaviestFirst.sort(Comparator.comparingLong(weight).reversed());
    List<List<T>> groups = new ArrayList<>();
    long[] load = new long[n];
    for (int i = 0; i < n; i++) groups.add(new ArrayList<>());
    for (T item : heaviestFirst) {
      int lightest = lightest(load);
      groups.get(lightest).add(item);
      load[lightest] += weight.applyAsLong(item);
    }
    groups.removeIf(List::isEmpty);
    return groups;
  }

  private static int lightest(long[] load) {
    int lightest = 0;
    for (int i = 1; i < load.length; i++) if (load[i] < load[lightest]) lightest = i;
    return lightest;
  }

  private static <T> long weight(List<T> part, ToIntFunction<T> tokens) {
    return part.stream().mapToLong(tokens::applyAsInt).sum();
  }

  @Override
  public void close() {
    if (threads != null) threads.shutdownNow();
  }
}
