package io.prefstream.app;

/**
 * What {@code bench ingest} times: something that copies the records of an input topic to an
 * output topic (the ingest topology, or a plain consumer and producer), started and ready.
 */
interface BenchPipe extends AutoCloseable {
  /** {@link System#nanoTime()} when it was ready to take its first record: connected, assigned, restored. */
  long readyNanos();

  @Override
  void close();
}
