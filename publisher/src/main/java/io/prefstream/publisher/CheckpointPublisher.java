package io.prefstream.publisher;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Sends a cut checkpoint to the model topic: its chunks, then its manifest, keyed by model name.
 * It runs inside the caller's transaction (the trainer's, which also commits the input offsets the
 * checkpoint covers) and never begins or commits one itself.
 */
public final class CheckpointPublisher {
  private final String topic;

  public CheckpointPublisher(String topic) {
    this.topic = topic;
  }

  public void publish(Producer<String, SpecificRecord> transactionalProducer, CheckpointCutter.Cut cut) {
    String key = cut.manifest().getModelName();
    cut.chunks().forEach(chunk -> transactionalProducer.send(new ProducerRecord<>(topic, key, chunk)));
    transactionalProducer.send(new ProducerRecord<>(topic, key, cut.manifest()));
  }
}
