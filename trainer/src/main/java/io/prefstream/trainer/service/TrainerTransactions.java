package io.prefstream.trainer.service;

import io.prefstream.publisher.CheckpointCutter;
import io.prefstream.publisher.CheckpointPublisher;
import io.prefstream.publisher.ManifestSigner;
import io.prefstream.schemas.TrainingMetrics;
import java.security.KeyPair;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer's transaction boundary: everything it writes to Kafka goes through here, each in
 * one transaction. A checkpoint's chunks, its manifest, the dead letters of the unfit records it
 * covers and the commit of the input offsets it covers are one transaction, so they become
 * visible together or not at all.
 *
 * <p>A Kafka failure aborts the transaction (the abort tried again until the broker answers) and
 * reports false (the caller keeps what it covers and tries again with the next one); being fenced (a newer trainer of the same id, or a
 * transaction the broker aborted on its timeout) stops this one, and its restart restores the last
 * published checkpoint.
 */
final class TrainerTransactions {
  private static final Logger log = LoggerFactory.getLogger(TrainerTransactions.class);

  /** Writes records and bytes alike ({@link RecordsOrBytes}). */
  private final Producer<Object, Object> producer;
  private final String trainerId;
  private final CheckpointPublisher publisher;
  private final String metricsTopic;
  private final String dlqTopic;

  /** @param signingKeys the keys that sign every manifest; none: manifests go out unsigned */
  TrainerTransactions(Producer<Object, Object> producer, TrainerConfig config, Optional<KeyPair> signingKeys) {
    this.producer = producer;
    this.trainerId = config.trainerId();
    this.publisher = new CheckpointPublisher(config.modelTopic(), new CheckpointCutter(CheckpointCutter.DEFAULT_CHUNK_BYTES),
        signingKeys.map(k -> ManifestSigner.ed25519(k.getPrivate(), k.getPublic())).orElse(ManifestSigner.NONE));
    this.metricsTopic = config.metricsTopic();
    this.dlqTopic = config.dlqTopic();
  }

  /** Fences an older trainer with the same transactional id. */
  void init() {
    producer.initTransactions();
  }

  /** Publishes the checkpoint, dead-letters the unfit records it covers and commits the consumer offsets it covers, atomically. */
  boolean commitCheckpoint(CheckpointWriter.Written checkpoint, List<UnfitRecord> deadLetters, Map<TopicPartition, OffsetAndMetadata> offsets, ConsumerGroupMetadata group) {
    String what = "checkpoint v" + checkpoint.version();
    return transact(what, () -> {
      publisher.publish(asRecordProducer(), checkpoint.serving(), checkpoint.state(), checkpoint.manifest());
      deadLetters.forEach(d -> producer.send(d.toDeadLetter(dlqTopic)));
      untilDone(what, () -> producer.sendOffsetsToTransaction(offsets, group));
    });
  }

  /** The same producer, as the publisher takes it: its serializer writes records whatever the declared types. */
  @SuppressWarnings("unchecked")
  private Producer<String, SpecificRecord> asRecordProducer() {
    return (Producer<String, SpecificRecord>) (Producer<?, ?>) producer;
  }

  boolean publishMetrics(TrainingMetrics metrics) {
    return transact("metrics of step " + metrics.getStep(), () -> producer.send(new ProducerRecord<>(metricsTopic, metrics.getModelName(), metrics)));
  }

  private boolean transact(String what, Runnable sends) {
    try {
      producer.beginTransaction();
      sends.run();
      untilDone(what, producer::commitTransaction);
      return true;
    } catch (ProducerFencedException | InvalidProducerEpochException e) {
      throw fenced(e);
    } catch (KafkaException e) {
      log.warn("{} not published: {}", what, e.getMessage());
      try {
        untilDone("aborting " + what, producer::abortTransaction); // an abort after a send that timed out can time out too
      } catch (ProducerFencedException | InvalidProducerEpochException f) {
        throw fenced(f);
      }
      return false;
    }
  }

  /**
   * Runs a blocking transactional call until it completes. One that timed out (the broker away for
   * longer than max.block.ms) is still under way in the producer, which then refuses any other
   * call, abortTransaction included: repeating the same call is the only way on.
   */
  private static void untilDone(String what, Runnable call) {
    while (true) {
      try {
        call.run();
        return;
      } catch (TimeoutException e) {
        log.warn("{} not done within max.block.ms, trying again: {}", what, e.getMessage());
      }
    }
  }

  /**
   * The broker bumps the producer's epoch both when another trainer with this id starts and when
   * it aborts a transaction that ran past transaction.timeout.ms; from here the two look the same.
   */
  private IllegalStateException fenced(KafkaException e) {
    return new IllegalStateException("fenced: another trainer with id " + trainerId + " took over, or the broker aborted a transaction "
        + "that ran past transaction.timeout.ms (raise it above the time a checkpoint takes to publish, up to the broker's "
        + "transaction.max.timeout.ms); stopping", e);
  }
}
