package io.prefstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.prefstream.schemas.serde.SchemaRegistryException;
import java.net.ServerSocket;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.Test;

class StreamThreadFailuresTest {
  private final StreamThreadFailures failures = new StreamThreadFailures();

  @Test
  void producerWaitingForATimedOutTransactionCall_threadReplaced() throws Exception {
    Throwable refused = timedOutProducerRefusingTheNextCall();
    assertThat(refused).isInstanceOf(IllegalStateException.class).hasMessageContaining("timed out and must be retried");

    // as Kafka Streams hands it over when its commit trips on it
    assertThat(failures.handle(new StreamsException(refused))).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
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
        ProducerConfig.TRANSACTIONAL_ID_CONFIG, "stream-thread-failures-test",
        ProducerConfig.MAX_BLOCK_MS_CONFIG, 300);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
      assertThat(catchThrowable(producer::initTransactions)).isInstanceOf(TimeoutException.class);
      return catchThrowable(producer::beginTransaction);
    }
  }
}
