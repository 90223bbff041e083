package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointManifest;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InterruptException;

/**
 * Sends a checkpoint to the model topic: its chunks as they are cut, then its manifest (naming the
 * offset of the first chunk, then signed), keyed by model name. It runs inside the caller's
 * transaction (the trainer's, which also commits the input offsets the checkpoint covers) and
 * never begins or commits one itself.
 */
public final class CheckpointPublisher {
  private final String topic;
  private final CheckpointCutter cutter;
  private final ManifestSigner signer;

  public CheckpointPublisher(String topic, CheckpointCutter cutter, ManifestSigner signer) {
    this.topic = topic;
    this.cutter = cutter;
    this.signer = signer;
  }

  /**
   * @param companion optimizer state and counters, or null
   * @param manifest everything but the files, chunks and first chunk offset, which are filled in here
   * @return the manifest as published
   * @throws KafkaException when a send fails (no later chunk is sent then): the caller aborts its transaction
   */
  public CheckpointManifest publish(Producer<String, SpecificRecord> transactionalProducer, Path serving, Path companion, CheckpointManifest.Builder manifest) {
    String key = manifest.getModelName();
    long[] firstOffset = {-1};
    FirstSendFailure failure = new FirstSendFailure();
    cutter.cut(serving, companion, manifest, chunk -> {
      failure.throwIfAny();
      Future<RecordMetadata> sent = transactionalProducer.send(new ProducerRecord<>(topic, key, chunk), failure);
      if (chunk.getIndex() == 0) firstOffset[0] = offsetOf(sent);
    });
    failure.throwIfAny();
    CheckpointManifest published = signer.sign(manifest.setFirstChunkOffset(firstOffset[0]).build());
    transactionalProducer.send(new ProducerRecord<>(topic, key, published));
    return published;
  }

  /**
   * Remembers the first failed send, so that publishing stops at once. Once the broker has aborted
   * the transaction (it ran past {@code transaction.timeout.ms}), every later send fails, and
   * those that wait for buffer memory that the failed batches still hold each block for
   * {@code max.block.ms}: a checkpoint of thousands of chunks would go on for hours.
   */
  private static final class FirstSendFailure implements Callback {
    private final AtomicReference<Exception> first = new AtomicReference<>();

    @Override
    public void onCompletion(RecordMetadata metadata, Exception exception) {
      if (exception != null) first.compareAndSet(null, exception);
    }

    void throwIfAny() {
      Exception e = first.get();
      if (e != null) throw e instanceof KafkaException k ? k : new KafkaException("a chunk was not sent", e);
    }
  }

  private static long offsetOf(Future<RecordMetadata> sent) {
    try {
      return sent.get().offset();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof KafkaException k ? k : new KafkaException("cannot send the first chunk", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptException(e);
    }
  }
}
