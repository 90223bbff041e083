package io.prefstream.app;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The floor {@code bench ingest} compares the topology with: a plain consumer and producer, on one
 * thread, copying every partition of one topic to the same partition of another, with the clients' default settings: at least once (offsets
 * committed automatically, so a restart goes on where the last copy stopped), no transactions, no
 * reading of the values. The same Kafka work as the topology's, none of its own.
 */
final class RawPipe implements BenchPipe {
  /** The copying thread's name and the producer's client id, so its network thread's name holds it too. */
  private static final String CLIENT_ID = "bench-raw-pipe";
  private final Thread thread;
  private final CountDownLatch ready = new CountDownLatch(1);
  private volatile boolean stopped;
  private volatile RuntimeException failure;

  private RawPipe(String bootstrap, String from, String to) {
    thread = new Thread(() -> copy(bootstrap, from, to), CLIENT_ID);
  }

  /** Starts copying; returns once the clients are connected and the input's start is found. */
  static RawPipe start(String bootstrap, String from, String to, Duration limit) throws InterruptedException {
    RawPipe pipe = new RawPipe(bootstrap, from, to);
    pipe.thread.start();
    if (!pipe.ready.await(limit.toMillis(), TimeUnit.MILLISECONDS) || pipe.failure != null) {
      pipe.close();
      throw new IllegalStateException("the raw copy did not start within " + limit);
    }
    return pipe;
  }

  private void copy(String bootstrap, String from, String to) {
    Map<String, Object> consumerProps = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ConsumerConfig.GROUP_ID_CONFIG, "bench-raw-pipe",
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest", ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (var consumer = new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.CLIENT_ID_CONFIG, CLIENT_ID),
            new ByteArraySerializer(), new ByteArraySerializer())) {
      List<TopicPartition> inputs = consumer.partitionsFor(from).stream().map(p -> new TopicPartition(from, p.partition())).toList();
      consumer.assign(inputs);
      inputs.forEach(consumer::position); // connected and the committed offsets found, as a started topology is
      producer.partitionsFor(to);
      ready.countDown();
      while (!stopped) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
          producer.send(new ProducerRecord<>(to, r.partition(), r.key(), r.value()));
        }
      }
    } catch (RuntimeException e) {
      failure = e;
      ready.countDown();
    }
  }

  @Override
  public long cpuNanos() {
    return BenchPipe.cpuNanosOfThreads(name -> name.contains(CLIENT_ID));
  }

  @Override
  public void close() {
    stopped = true;
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (failure != null) throw new IllegalStateException("the raw copy failed: " + failure.getMessage(), failure);
  }
}
