package io.prefstream.app;

/**
 * What {@code bench ingest} times: something that copies the records of an input topic to an
 * output topic (the ingest topology, or a plain consumer and producer), started and ready.
 */
interface BenchPipe extends AutoCloseable {
  /** No pipe: what is produced to a topic is read from that same topic. */
  BenchPipe NONE = new BenchPipe() {
    @Override
    public long readyNanos() {
      return System.nanoTime();
    }

    @Override
    public void close() {}
  };

  /** {@link System#nanoTime()} when it was ready to take its first record: connected, assigned, restored. */
  long readyNanos();

  @Override
  void close();
}
