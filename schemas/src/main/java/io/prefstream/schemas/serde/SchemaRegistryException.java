package io.prefstream.schemas.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A registry refused or could not answer a request.
 *
 * @param status the HTTP status, or 0 when the registry could not be reached
 * @param errorCode Confluent's error code (e.g. 40401 subject not found), or 0 when none was given
 */
public final class SchemaRegistryException extends SerializationException {
  private final int status;
  private final int errorCode;

  public SchemaRegistryException(int status, int errorCode, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.errorCode = errorCode;
  }

  public int status() {
    return status;
  }

  public int errorCode() {
    return errorCode;
  }

  /**
   * Whether the registry could not answer (unreachable, or HTTP 5xx) rather than refused: the
   * value may well be valid, so a reader stops or waits instead of calling it bad data.
   */
  public boolean unavailable() {
    return status == 0 || status >= 500;
  }
}
