package io.prefstream.publisher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.testkit.KafkaBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint whose transaction the broker aborts half-way (it ran past
 * {@code transaction.timeout.ms}, as a multi-gigabyte checkpoint on a slow disk can): publishing
 * stops at the first failed chunk and reports it, instead of sending every remaining chunk into a
 * producer that can only fail them, each send blocking up to {@code max.block.ms}.
 */
class AbortedTransactionTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final String TRANSACTIONAL_ID = "aborted-checkpoint";
  private static final int CHUNK = 1 << 20;
  private static final int CHUNKS = 40;

  @TempDir Path tmp;

  @Test
  void brokerAbortsTheTransactionMidCheckpoint_publishStopsAtTheFirstFailedChunk() throws Exception {
    String topic = "it-model.aborted";
    broker.createTopic(topic, 1, Map.of("max.message.bytes", String.valueOf(2 * CHUNK)));
    Map<String, Object> props = new HashMap<>(broker.producerProps());
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, TRANSACTIONAL_ID);
    props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 1000);
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2000);
    props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 4 * CHUNK);
    props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 2 * CHUNK);
    Path folder = Fixtures.folder(tmp.resolve("v1"), CHUNKS * CHUNK, 1);
    try (PausingProducer producer = new PausingProducer(props)) {
      producer.initTransactions();
      producer.beginTransaction();
      CheckpointPublisher publisher = new CheckpointPublisher(topic, new CheckpointCutter(CHUNK), ManifestSigner.NONE);

      assertThatThrownBy(() -> publisher.publish(producer, folder, null, Fixtures.manifest("m", 1, 0.9)))
          .isInstanceOf(KafkaException.class);
      assertThat(producer.sends.get()).as("chunks handed to the producer after the abort").isLessThan(CHUNKS / 2);
      producer.close(Duration.ofSeconds(5));
    }
  }

  /** A real producer that, before its second send, waits until the broker has aborted the transaction. */
  private static final class PausingProducer extends KafkaProducer<String, SpecificRecord> {
    final AtomicInteger sends = new AtomicInteger();

    PausingProducer(Map<String, Object> props) {
      super(props, new StringSerializer(), ModelTopic.serializer(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://aborted-transaction-test")));
    }

    @Override
    public Future<RecordMetadata> send(ProducerRecord<String, SpecificRecord> record, Callback callback) {
      if (sends.incrementAndGet() == 2) awaitAbortByTheBroker();
      return super.send(record, callback);
    }

    private static void awaitAbortByTheBroker() {
      try (Admin admin = Admin.create(broker.adminProps())) {
        // the coordinator looks for timed-out transactions every 10 s by default
        await().atMost(Duration.ofSeconds(60)).until(() -> EnumSet.of(TransactionState.PREPARE_ABORT, TransactionState.COMPLETE_ABORT)
            .contains(admin.describeTransactions(List.of(TRANSACTIONAL_ID)).description(TRANSACTIONAL_ID).get().state()));
      }
    }
  }
}
