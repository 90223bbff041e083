package io.prefstream.trainer.service;

/**
 * A record the trainer's model cannot take. Thrown while a record becomes an example, before it
 * enters a batch; the trainer dead-letters the record with the reason and goes on.
 */
public final class UnfitExampleException extends RuntimeException {
  private final UnfitReason reason;

  /** @param detail a sentence for the person reading the DLQ: the value and the limit it broke */
  public UnfitExampleException(UnfitReason reason, String detail) {
    super(detail);
    this.reason = reason;
  }

  public UnfitExampleException(UnfitReason reason, String detail, Throwable cause) {
    super(detail, cause);
    this.reason = reason;
  }

  public UnfitReason reason() {
    return reason;
  }
}
