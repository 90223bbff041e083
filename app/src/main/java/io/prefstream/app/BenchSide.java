package io.prefstream.app;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * One side of {@code bench ingest}: an input topic, the pipe that copies it (started afresh for each
 * measurement, so start-up is never timed), and a watch on its output. With {@link BenchPipe#NONE}
 * and the input as its own output it is a bare produce and consume.
 */
final class BenchSide implements AutoCloseable {
  /** Starts the pipe, ready to copy. */
  interface Starter {
    BenchPipe start() throws InterruptedException;
  }

  /** Makes {@code n} distinct pairs for a topic, each event id starting with {@code batch}. */
  interface Pairs {
    List<ProducerRecord<byte[], byte[]>> make(String topic, String batch, int n);
  }

  private final String bootstrap;
  private final String in;
  private final Starter starter;
  private final Pairs pairs;
  private final OutputWatch watch;
  private final Duration limit;
  private long expected;

  BenchSide(String bootstrap, String in, String out, Starter starter, Pairs pairs, int probes, Duration limit) {
    this.bootstrap = bootstrap;
    this.in = in;
    this.starter = starter;
    this.pairs = pairs;
    this.limit = limit;
    this.watch = new OutputWatch(bootstrap, out, probes);
  }

  /** Copies {@code n} pairs untimed: start-up and a cold JIT stay out of the measurements. */
  void warmUp(int n) throws InterruptedException {
    produce(pairs.make(in, "warm-up", n));
    expected += n;
    try (BenchPipe pipe = starter.start()) {
      watch.awaitCount(expected, limit);
    }
  }

  /** A copy of a backlog: pairs per second, and the pipe's CPU time per pair in microseconds. */
  record Copy(double pairsPerSecond, double cpuMicrosPerPair) {}

  /**
   * Copies a backlog of {@code n} pairs, timed from the moment it becomes readable to the last pair
   * readable on the output. The backlog is written in one transaction that commits only once the
   * pipe runs: both pipes read {@code read_committed}, so none starts early (a Kafka Streams thread
   * that has joined could otherwise copy it before the last thread has, and the client reports
   * RUNNING), and none is timed starting up.
   */
  Copy throughput(String batch, int n) throws InterruptedException {
    try (var backlog = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.TRANSACTIONAL_ID_CONFIG, "bench-backlog-" + in), new ByteArraySerializer(), new ByteArraySerializer())) {
      backlog.initTransactions();
      backlog.beginTransaction();
      pairs.make(in, batch, n).forEach(backlog::send);
      backlog.flush();
      expected += n;
      try (BenchPipe pipe = starter.start()) {
        long cpuBefore = pipe.cpuNanos();
        backlog.commitTransaction();
        long start = System.nanoTime();
        long done = watch.awaitCount(expected, limit);
        return new Copy(n / ((done - start) / 1e9), (pipe.cpuNanos() - cpuBefore) / 1e3 / n);
      }
    }
  }

  /**
   * Pairs per second of the whole pipeline: from the first send of {@code n} pairs into the running
   * pipe's input to the last of them readable on its output. The producer is connected and the
   * output's reader positioned before the clock starts.
   */
  double pipeline(String batch, int n) throws InterruptedException {
    List<ProducerRecord<byte[], byte[]>> records = pairs.make(in, batch, n);
    try (BenchPipe pipe = starter.start(); var producer = producer()) {
      producer.partitionsFor(in);
      expected += n;
      long start = System.nanoTime();
      records.forEach(producer::send);
      long done = watch.awaitCount(expected, limit);
      return n / ((done - start) / 1e9);
    }
  }

  /** End-to-end latencies in milliseconds, sorted, of {@code n} probes sent at {@code perSecond}. */
  double[] latenciesMs(int n, int perSecond) throws InterruptedException {
    try (BenchPipe pipe = starter.start(); ProbeSender probes = ProbeSender.start(bootstrap, pairs.make(in, "probe", n), perSecond)) {
      expected += n;
      watch.awaitCount(expected, limit);
      long[] sent = probes.sentNanos();
      long[] arrived = watch.probeArrivalNanos();
      double[] ms = new double[n];
      for (int i = 0; i < n; i++) ms[i] = (arrived[i] - sent[i]) / 1e6;
      Arrays.sort(ms);
      return ms;
    }
  }

  private void produce(List<ProducerRecord<byte[], byte[]>> records) {
    try (var producer = producer()) {
      records.forEach(producer::send);
    }
  }

  private KafkaProducer<byte[], byte[]> producer() {
    return new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), new ByteArraySerializer(), new ByteArraySerializer());
  }

  @Override
  public void close() {
    watch.close();
  }
}
