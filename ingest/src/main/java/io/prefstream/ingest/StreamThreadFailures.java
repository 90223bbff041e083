package io.prefstream.ingest;

import io.prefstream.schemas.serde.SchemaRegistryException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What ingest does when a stream thread fails. No record gets here (bad records go to the DLQ), so
 * the cause is the world around ingest, and ingest stops with the reason rather than restart a
 * thread into the same wall (a schema registry down past its retries, a misconfiguration).
 *
 * <p>One kind of cause is Kafka Streams 4.3 itself: after a broker was out of reach for longer than
 * {@code max.block.ms}, the stream thread's transactional producer can be left in a state Streams
 * does not lead it out of. A commit that timed out must be retried, but Streams adds offsets
 * first, which the producer refuses ({@code IllegalStateException}); or the retried commit
 * fails once the group has moved on, and the producer refuses every send after
 * ({@code KafkaException: ... in an error state}). Both are raised by the producer's transaction
 * manager. A fresh thread's producer fences the old one and aborts its transaction. Nothing of
 * that transaction was committed, so the fresh thread reads those records again and exactly-once
 * holds. Replacements are bounded: more than {@link #MAX_REPLACEMENTS} within {@link #WINDOW} stop
 * ingest, so that nothing can replace threads in a loop.
 */
public final class StreamThreadFailures implements StreamsUncaughtExceptionHandler {
  static final int MAX_REPLACEMENTS = 5;
  static final Duration WINDOW = Duration.ofMinutes(10);
  private static final Logger log = LoggerFactory.getLogger(StreamThreadFailures.class);
  private static final String TRANSACTION_MANAGER = "org.apache.kafka.clients.producer.internals.TransactionManager";

  private final Clock clock;
  private final Deque<Instant> replacements = new ArrayDeque<>();

  public StreamThreadFailures() {
    this(Clock.systemUTC());
  }

  StreamThreadFailures(Clock clock) {
    this.clock = clock;
  }

  @Override
  public synchronized StreamThreadExceptionResponse handle(Throwable failure) {
    if (raisedByTransactionManager(failure)) {
      Instant now = clock.instant();
      while (!replacements.isEmpty() && replacements.peekFirst().isBefore(now.minus(WINDOW))) replacements.removeFirst();
      if (replacements.size() < MAX_REPLACEMENTS) {
        replacements.addLast(now);
        log.warn("ingest replaces a stream thread whose transactional producer is stuck (a broker out of reach for longer than max.block.ms): "
            + "its transaction is aborted and its records are read again ({})", rootMessage(failure));
        return StreamThreadExceptionResponse.REPLACE_THREAD;
      }
      log.error("ingest replaced {} stream threads within {}; it stops rather than go on replacing", MAX_REPLACEMENTS, WINDOW);
    }
    log.error("ingest stops: {}; nothing was dead-lettered or committed for the record at hand, it is read again after a restart",
        rootMessage(failure));
    return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
  }

  private static boolean raisedByTransactionManager(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      StackTraceElement[] stack = t.getStackTrace();
      if (stack.length > 0 && stack[0].getClassName().startsWith(TRANSACTION_MANAGER)) return true;
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
