package io.prefstream.ingest;

import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka Streams' production exception handler for ingest: a dead letter the DLQ topic refuses (too
 * large for the broker's {@code max.message.bytes}, say) is logged and skipped, never a reason to
 * kill the stream thread, which would replay the same record on every restart. A failed write of a
 * valid record to any other topic still fails, so that nothing valid is lost silently.
 */
public final class DeadLetterWriteHandler implements ProductionExceptionHandler {
  /** The DLQ topic's name, set by {@link IngestConfig#streamsProperties()}. */
  public static final String DLQ_TOPIC = "prefstream.dlq.topic";
  private static final Logger log = LoggerFactory.getLogger(DeadLetterWriteHandler.class);

  private String dlqTopic;

  @Override
  public void configure(Map<String, ?> configs) {
    Object topic = configs.get(DLQ_TOPIC);
    dlqTopic = topic == null ? null : topic.toString();
  }

  @Override
  public Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
    if (!record.topic().equals(dlqTopic)) return Response.fail();
    log.error("dead letter of {}-{} offset {} ({} value bytes) not written to {}: {}; skipped, ingest goes on",
        context.topic(), context.partition(), context.offset(), record.value() == null ? 0 : record.value().length, dlqTopic, exception.toString());
    return Response.resume();
  }
}
