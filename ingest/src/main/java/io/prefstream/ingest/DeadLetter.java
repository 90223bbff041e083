package io.prefstream.ingest;

import io.prefstream.schemas.DeadLetterHeaders;
import org.apache.kafka.common.header.Headers;

/**
 * A rejected input record: its original key and bytes and where it came from, with the reason.
 * On the DLQ these are headers {@code error.reason}, {@code error.detail},
 * {@code error.source.topic}, {@code error.source.partition} and {@code error.source.offset}.
 */
public record DeadLetter(byte[] key, byte[] value, Rejection rejection, String sourceTopic, int sourcePartition, long sourceOffset) {
  public static final String REASON = DeadLetterHeaders.REASON;
  public static final String DETAIL = DeadLetterHeaders.DETAIL;
  public static final String SOURCE_TOPIC = DeadLetterHeaders.SOURCE_TOPIC;
  public static final String SOURCE_PARTITION = DeadLetterHeaders.SOURCE_PARTITION;
  public static final String SOURCE_OFFSET = DeadLetterHeaders.SOURCE_OFFSET;

  Headers headers() {
    return DeadLetterHeaders.of(rejection.reason().code(), rejection.detail(), sourceTopic, sourcePartition, sourceOffset);
  }
}
