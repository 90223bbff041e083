package io.prefstream.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prefstream.broker.LocalBroker;
import io.prefstream.publisher.ModelTopic;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.serde.SerdeConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker going away while a checkpoint is published: the send that needs it times out
 * (max.block.ms), and so does the abort that follows. The abort is tried again until the broker is
 * back and the checkpoint is reported not published (what it covers goes into the next one), as
 * the class documents, instead of the exception stopping the trainer.
 */
class TrainerTransactionsTest {
  private static final String MODELS = "transactions.checkpoints";
  private static final String DLQ = "transactions.dlq";

  @TempDir Path tmp;

  @Test
  void abortThatTimesOut_isTriedAgainUntilTheBrokerIsBack_andTheCheckpointIsReportedNotPublished() throws Exception {
    Path data = tmp.resolve("kafka");
    AtomicReference<LocalBroker> broker = new AtomicReference<>(LocalBroker.start(0, data));
    int port = broker.get().port();
    try {
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.get().bootstrapServers()))) {
        admin.createTopics(List.of(new NewTopic(MODELS, 1, (short) 1), new NewTopic(DLQ, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
      }
      TrainerConfig config = config(broker.get().bootstrapServers());
      try (OutageProducer producer = new OutageProducer(config, () -> broker.get().close())) {
        TrainerTransactions transactions = new TrainerTransactions(producer, config, Optional.empty());
        transactions.init();
        ConsumerGroupMetadata group = new ConsumerGroupMetadata(config.trainerId());
        CompletableFuture<Boolean> first = CompletableFuture.supplyAsync(() -> transactions.commitCheckpoint(checkpoint(config), List.of(deadLetter()), Map.of(), group));

        await().atMost(Duration.ofSeconds(60)).until(() -> producer.abortTimeouts.get() > 0 || first.isDone());
        broker.set(LocalBroker.start(port, data));

        assertThat(first.get(60, TimeUnit.SECONDS)).as("the checkpoint is reported not published").isFalse();
        assertThat(transactions.commitCheckpoint(checkpoint(config), List.of(), Map.of(), group)).as("the next one commits").isTrue();
      }
    } finally {
      broker.get().close();
    }
  }

  private TrainerConfig config(String bootstrap) {
    Map<String, Object> props = new HashMap<>();
    props.put("bootstrap.servers", bootstrap);
    props.put(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://trainer-transactions");
    props.put(TrainerConfig.MODEL_NAME, "tx");
    props.put(TrainerConfig.MODEL_DIR, tmp.toString());
    props.put(TrainerConfig.MODEL_TOPIC, MODELS);
    props.put(TrainerConfig.DLQ_TOPIC, DLQ);
    props.put(TrainerConfig.TRAINER_ID, "transactions-trainer");
    return TrainerConfig.parse(props);
  }

  /** A small checkpoint on disk, as the writer leaves it. */
  private CheckpointWriter.Written checkpoint(TrainerConfig config) {
    try {
      Path folder = Files.createDirectories(tmp.resolve("publish-" + System.nanoTime()));
      Files.writeString(Files.createDirectories(folder.resolve("model")).resolve("config.json"), "{}");
      Files.writeString(Files.createDirectories(folder.resolve("state")).resolve(TrainerState.COUNTERS), "{\"step\":1,\"version\":1}");
      return new CheckpointWriter.Written(1, folder, CheckpointManifest.newBuilder().setModelName(config.modelName()).setVersion(1).setParentVersion(null)
          .setCreatedTime(1).setTrainerId(config.trainerId()).setStep(1).setFiles(List.of()).setChunkCount(0));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static UnfitRecord deadLetter() {
    ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("transactions.pairs", 0, 7, null, new byte[] {1, 2, 3});
    return UnfitRecord.of(record, new UnfitExampleException(UnfitReason.UNDESERIALIZABLE, "not a pair"));
  }

  /**
   * The trainer's producer, real, that stops the broker before its first dead letter: the
   * checkpoint's first chunk is on the broker, so its transaction has begun there, and the dead
   * letter topic's metadata is not known yet, so that send waits max.block.ms and fails.
   */
  private static final class OutageProducer extends KafkaProducer<Object, Object> {
    final AtomicInteger abortTimeouts = new AtomicInteger();
    private final Runnable outage;
    private final AtomicInteger deadLetters = new AtomicInteger();

    OutageProducer(TrainerConfig config, Runnable outage) {
      super(props(config), RecordsOrBytes.keys(), new RecordsOrBytes(ModelTopic.serializer(config.passThrough())));
      this.outage = outage;
    }

    private static Map<String, Object> props(TrainerConfig config) {
      Map<String, Object> props = new HashMap<>(config.passThrough());
      props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.trainerId());
      props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2000);
      return props;
    }

    @Override
    public java.util.concurrent.Future<RecordMetadata> send(ProducerRecord<Object, Object> record, Callback callback) {
      if (record.topic().equals(DLQ) && deadLetters.getAndIncrement() == 0) outage.run();
      return super.send(record, callback);
    }

    @Override
    public void abortTransaction() {
      try {
        super.abortTransaction();
      } catch (TimeoutException e) {
        abortTimeouts.incrementAndGet();
        throw e;
      }
    }
  }
}
