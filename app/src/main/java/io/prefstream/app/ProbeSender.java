package io.prefstream.app;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends latency probes at a steady rate from its own thread, noting when each was handed to the
 * producer: end-to-end latency is measured from there to the probe's arrival on the output topic.
 */
final class ProbeSender implements AutoCloseable {
  private final AtomicLongArray sentNanos;
  private final Thread thread;
  private volatile RuntimeException failure;

  private ProbeSender(String bootstrap, List<ProducerRecord<byte[], byte[]>> probes, int perSecond) {
    sentNanos = new AtomicLongArray(probes.size());
    thread = new Thread(() -> send(bootstrap, probes, perSecond), "probe-sender");
  }

  static ProbeSender start(String bootstrap, List<ProducerRecord<byte[], byte[]>> probes, int perSecond) {
    ProbeSender sender = new ProbeSender(bootstrap, probes, perSecond);
    sender.thread.start();
    return sender;
  }

  private void send(String bootstrap, List<ProducerRecord<byte[], byte[]>> probes, int perSecond) {
    long interval = TimeUnit.SECONDS.toNanos(1) / perSecond;
    try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      long start = System.nanoTime();
      for (int i = 0; i < probes.size(); i++) {
        long due = start + i * interval;
        for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) LockSupport.parkNanos(wait);
        sentNanos.set(i, System.nanoTime());
        producer.send(probes.get(i));
      }
    } catch (RuntimeException e) {
      failure = e;
    }
  }

  /** When each probe was sent ({@link System#nanoTime()}), once all were. */
  long[] sentNanos() throws InterruptedException {
    thread.join();
    if (failure != null) throw new IllegalStateException("sending latency probes failed: " + failure.getMessage(), failure);
    long[] sent = new long[sentNanos.length()];
    for (int i = 0; i < sent.length; i++) sent[i] = sentNanos.get(i);
    return sent;
  }

  @Override
  public void close() throws InterruptedException {
    thread.join();
  }
}
