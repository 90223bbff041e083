package io.prefstream.ingest;

import io.prefstream.schemas.serde.SchemaRegistryException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What ingest does when a stream thread fails. No record gets here (bad records go to the DLQ), so
 * the cause is the world around ingest, and ingest stops with the reason rather than restart a
 * thread into the same wall (a schema registry down past its retries, a misconfiguration).
 *
 * <p>One cause is a Kafka Streams defect, not the world: when a broker stays out of reach longer
 * than {@code max.block.ms} while a transaction is committing, the producer waits for the
 * commit to be retried, but Streams' next commit adds offsets first, which the producer refuses
 * with an {@link IllegalStateException}. That thread's producer can never commit again; a fresh
 * thread's producer fences it and aborts its transaction, and nothing of it was committed, so the
 * fresh thread reads those records again and exactly-once holds.
 */
public final class StreamThreadFailures implements StreamsUncaughtExceptionHandler {
  private static final Logger log = LoggerFactory.getLogger(StreamThreadFailures.class);
  private static final String TRANSACTION_MANAGER = "org.apache.kafka.clients.producer.internals.TransactionManager";

  @Override
  public StreamThreadExceptionResponse handle(Throwable failure) {
    if (isProducerWaitingForTimedOutCall(failure)) {
      log.warn("ingest replaces a stream thread whose producer waits for a timed-out transaction call to be retried (a broker out of reach "
          + "for longer than max.block.ms): its transaction is aborted and its records are read again ({})", rootMessage(failure));
      return StreamThreadExceptionResponse.REPLACE_THREAD;
    }
    log.error("ingest stops: {}; nothing was dead-lettered or committed for the record at hand, it is read again after a restart",
        rootMessage(failure));
    return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
  }

  private static boolean isProducerWaitingForTimedOutCall(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      StackTraceElement[] stack = t.getStackTrace();
      if (t instanceof IllegalStateException && stack.length > 0 && stack[0].getClassName().equals(TRANSACTION_MANAGER)) return true;
    }
    return false;
  }

  /** The innermost message: Streams wraps the cause that says what went wrong. */
  private static String rootMessage(Throwable failure) {
    String message = failure.toString();
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t.getMessage() != null) message = t.getMessage();
      if (t instanceof SchemaRegistryException) return message; // it names the registry and the record
    }
    return message;
  }
}
