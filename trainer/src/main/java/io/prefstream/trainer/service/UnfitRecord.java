package io.prefstream.trainer.service;

import io.prefstream.schemas.DeadLetterHeaders;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

/** A record the model cannot take, on its way to the dead-letter topic: original key and bytes, the reason, and where it came from. */
record UnfitRecord(byte[] key, byte[] value, UnfitExampleException why, String sourceTopic, int sourcePartition, long sourceOffset) {

  static UnfitRecord of(ConsumerRecord<byte[], byte[]> r, UnfitExampleException why) {
    return new UnfitRecord(r.key(), r.value(), why, r.topic(), r.partition(), r.offset());
  }

  /** Bytes of the key and value held for the dead letter. */
  long bytes() {
    return (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
  }

  ProducerRecord<Object, Object> toDeadLetter(String dlqTopic) {
    return new ProducerRecord<>(dlqTopic, null, key, value,
        DeadLetterHeaders.of(why.reason().code(), why.getMessage(), sourceTopic, sourcePartition, sourceOffset));
  }
}
