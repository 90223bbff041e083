package io.prefstream.ingest;

import io.prefstream.schemas.DeadLetterHeaders;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.kafka.common.header.Headers;

/**
 * A rejected input record: its original key and bytes and where it came from, with the reason.
 * On the DLQ these are headers {@code error.reason}, {@code error.detail},
 * {@code error.source.topic}, {@code error.source.partition} and {@code error.source.offset}. A
 * copy too large for the producer is cut to fit, with {@code error.value.truncated} (or
 * {@code error.key.truncated}) giving the original size in bytes.
 */
public record DeadLetter(byte[] key, byte[] value, Rejection rejection, String sourceTopic, int sourcePartition, long sourceOffset) {
  public static final String REASON = DeadLetterHeaders.REASON;
  public static final String DETAIL = DeadLetterHeaders.DETAIL;
  public static final String SOURCE_TOPIC = DeadLetterHeaders.SOURCE_TOPIC;
  public static final String SOURCE_PARTITION = DeadLetterHeaders.SOURCE_PARTITION;
  public static final String SOURCE_OFFSET = DeadLetterHeaders.SOURCE_OFFSET;
  public static final String VALUE_TRUNCATED = "error.value.truncated";
  public static final String KEY_TRUNCATED = "error.key.truncated";
  /** Room left in a producer request for the key, headers and batch overhead. */
  static final int HEADROOM_BYTES = 16 * 1024;
  private static final int MAX_KEY_BYTES = 4 * 1024;

  /**
   * The DLQ record's key, value and headers, cut to fit a producer request of
   * {@code maxRequestBytes}: the original is bigger than Kafka will take, and a dead letter must
   * never be the record that cannot be written.
   */
  Copy fitting(int maxRequestBytes) {
    Headers h = headers();
    byte[] k = key;
    if (k != null && k.length > MAX_KEY_BYTES) {
      h.add(KEY_TRUNCATED, bytes(String.valueOf(k.length)));
      k = Arrays.copyOf(k, MAX_KEY_BYTES);
    }
    byte[] v = value;
    int room = Math.max(0, maxRequestBytes - HEADROOM_BYTES - (k == null ? 0 : k.length));
    if (v != null && v.length > room) {
      h.add(VALUE_TRUNCATED, bytes(String.valueOf(v.length)));
      v = Arrays.copyOf(v, room);
    }
    return new Copy(k, v, h);
  }

  /** A DLQ record as it is written. */
  record Copy(byte[] key, byte[] value, Headers headers) {}

  private Headers headers() {
    return DeadLetterHeaders.of(rejection.reason().code(), rejection.detail(), sourceTopic, sourcePartition, sourceOffset);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
