package io.prefstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.prefstream.schemas.serde.SchemaRegistryException;
import io.prefstream.testkit.KafkaBroker;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Ingest's answer to a failed stream thread, given the failures a real producer raises. */
class StreamThreadFailuresTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final String TOPIC = "stream-thread-failures";

  private final MovableClock clock = new MovableClock();
  private final StreamThreadFailures failures = new StreamThreadFailures(clock);

  @Test
  void producerWaitingForATimedOutCommit_threadReplaced() throws Exception {
    Throwable refused = timedOutProducerRefusingTheNextCall();
    assertThat(refused).isInstanceOf(IllegalStateException.class).hasMessageContaining("timed out and must be retried");

    // as Kafka Streams hands it over when its commit trips on it
    assertThat(failures.handle(new StreamsException(refused))).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
  }

  @Test
  void producerInErrorStateAfterTheGroupMovedOn_threadReplaced() {
    Throwable refused = producerRefusingSendsAfterAStaleOffsetCommit();
    assertThat(refused).isInstanceOf(KafkaException.class).hasMessageContaining("error state").hasCauseInstanceOf(CommitFailedException.class);

    // as Kafka Streams hands it over when a record's send trips on it
    StreamsException inProcess = new StreamsException("Exception caught in process", new StreamsException("Error encountered trying to send record", refused));
    assertThat(failures.handle(inProcess)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
  }

  @Test
  void replacementsPastTheBound_ingestStops_untilTheWindowHasPassed() throws Exception {
    StreamsException stuck = new StreamsException(timedOutProducerRefusingTheNextCall());
    for (int i = 0; i < StreamThreadFailures.MAX_REPLACEMENTS; i++) {
      assertThat(failures.handle(stuck)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
      clock.advance(Duration.ofSeconds(30));
    }
    assertThat(failures.handle(stuck)).isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);

    clock.advance(StreamThreadFailures.WINDOW);
    assertThat(failures.handle(stuck)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
  }

  @Test
  void anyOtherIllegalState_ingestStops() {
    assertThat(failures.handle(new StreamsException(new IllegalStateException("a processor's own bug"))))
        .isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
  }

  @Test
  void schemaRegistryDownPastItsRetries_ingestStops() {
    SchemaRegistryException down = new SchemaRegistryException(503, 50003, "registry http://registry:8081 unavailable", null);
    assertThat(failures.handle(new StreamsException(down))).isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
  }

  /**
   * A real transactional producer with no broker to reach: initTransactions times out, and the
   * producer then refuses any other transactional call until that one is retried, as the stream
   * thread's producer does after a commit timed out.
   */
  private static Throwable timedOutProducerRefusingTheNextCall() throws Exception {
    int closedPort;
    try (ServerSocket free = new ServerSocket(0)) {
      closedPort = free.getLocalPort();
    }
    Map<String, Object> props = Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:" + closedPort,
        ProducerConfig.TRANSACTIONAL_ID_CONFIG, "stream-thread-failures-unreachable",
        ProducerConfig.MAX_BLOCK_MS_CONFIG, 300);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
      assertThat(catchThrowable(producer::initTransactions)).isInstanceOf(TimeoutException.class);
      return catchThrowable(producer::beginTransaction);
    }
  }

  /**
   * A real transactional producer on the broker commits offsets for a group generation that is not
   * the group's, as a commit retried after a rebalance does: the producer then refuses every send.
   */
  private static Throwable producerRefusingSendsAfterAStaleOffsetCommit() {
    broker.createTopic(TOPIC, 1);
    Map<String, Object> props = new HashMap<>(broker.producerProps());
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "stream-thread-failures-stale");
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(TOPIC, new byte[] {1}));
      ConsumerGroupMetadata stale = new ConsumerGroupMetadata("stream-thread-failures-group", 7, "member-gone", Optional.empty());
      assertThat(catchThrowable(() -> producer.sendOffsetsToTransaction(Map.of(new TopicPartition(TOPIC, 0), new OffsetAndMetadata(1)), stale)))
          .isInstanceOf(CommitFailedException.class);
      return catchThrowable(() -> producer.send(new ProducerRecord<>(TOPIC, new byte[] {2})));
    }
  }

  private static final class MovableClock extends Clock {
    private Instant now = Instant.parse("2026-12-01T12:00:00Z");

    void advance(Duration by) {
      now = now.plus(by);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }
}
