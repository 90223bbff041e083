package io.prefstream.ingest;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * A rejected input record: its original key and bytes and where it came from, with the reason.
 * On the DLQ these are headers {@code error.reason}, {@code error.detail},
 * {@code error.source.topic}, {@code error.source.partition} and {@code error.source.offset}.
 */
public record DeadLetter(byte[] key, byte[] value, Rejection rejection, String sourceTopic, int sourcePartition, long sourceOffset) {
  public static final String REASON = "error.reason";
  public static final String DETAIL = "error.detail";
  public static final String SOURCE_TOPIC = "error.source.topic";
  public static final String SOURCE_PARTITION = "error.source.partition";
  public static final String SOURCE_OFFSET = "error.source.offset";

  Headers headers() {
    Headers h = new RecordHeaders();
    h.add(REASON, bytes(rejection.reason().code()));
    h.add(DETAIL, bytes(rejection.detail()));
    h.add(SOURCE_TOPIC, bytes(sourceTopic));
    h.add(SOURCE_PARTITION, bytes(String.valueOf(sourcePartition)));
    h.add(SOURCE_OFFSET, bytes(String.valueOf(sourceOffset)));
    return h;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
