package io.prefstream.app;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.function.Predicate;

/**
 * What {@code bench ingest} times: something that copies the records of an input topic to an
 * output topic (the ingest topology, or a plain consumer and producer), started and ready.
 */
interface BenchPipe extends AutoCloseable {
  /** No pipe: what is produced to a topic is read from that same topic. */
  BenchPipe NONE = new BenchPipe() {
    @Override
    public long cpuNanos() {
      return 0;
    }

    @Override
    public void close() {}
  };

  /**
   * CPU time its own threads (those doing its work, with their producer's network thread) have used
   * so far, in nanoseconds: it moves less than its rate with the load of other processes (on a
   * shared machine still up to 2x between runs).
   */
  long cpuNanos();

  @Override
  void close();

  /** CPU time used so far by the live threads whose names pass {@code isOwn}, in nanoseconds. */
  static long cpuNanosOfThreads(Predicate<String> isOwn) {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (isOwn.test(t.getName())) sum += Math.max(0, threads.getThreadCpuTime(t.getId()));
    }
    return sum;
  }
}
