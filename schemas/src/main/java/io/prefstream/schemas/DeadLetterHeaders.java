package io.prefstream.schemas;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The headers of a record on the dead-letter topic, whoever wrote it (ingest or the trainer): why
 * it was rejected and where its original bytes came from. The value and key are the original bytes.
 */
public final class DeadLetterHeaders {
  public static final String REASON = "error.reason";
  public static final String DETAIL = "error.detail";
  public static final String SOURCE_TOPIC = "error.source.topic";
  public static final String SOURCE_PARTITION = "error.source.partition";
  public static final String SOURCE_OFFSET = "error.source.offset";
  private static final int MAX_DETAIL_CHARS = 2 * 1024;

  private DeadLetterHeaders() {}

  /**
   * @param reason lower snake case code, e.g. {@code bad_weight}
   * @param detail a sentence for the person reading the DLQ
   */
  public static Headers of(String reason, String detail, String sourceTopic, int sourcePartition, long sourceOffset) {
    Headers h = new RecordHeaders();
    h.add(REASON, utf8(reason));
    h.add(DETAIL, utf8(detail.length() > MAX_DETAIL_CHARS ? detail.substring(0, MAX_DETAIL_CHARS) + "..." : detail));
    h.add(SOURCE_TOPIC, utf8(sourceTopic));
    h.add(SOURCE_PARTITION, utf8(String.valueOf(sourcePartition)));
    h.add(SOURCE_OFFSET, utf8(String.valueOf(sourceOffset)));
    return h;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
