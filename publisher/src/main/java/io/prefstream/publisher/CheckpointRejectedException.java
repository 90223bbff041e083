package io.prefstream.publisher;

/** A checkpoint that must not be rolled out: incomplete, corrupt, unsafe or not signed as required. */
public final class CheckpointRejectedException extends RuntimeException {
  public CheckpointRejectedException(String message) {
    super(message);
  }
}
