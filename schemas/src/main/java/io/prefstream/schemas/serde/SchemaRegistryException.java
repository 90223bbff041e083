package io.prefstream.schemas.serde;

import java.util.Set;
import org.apache.kafka.common.errors.SerializationException;

/**
 * A registry refused or could not answer a request.
 *
 * @param status the HTTP status, or 0 when the registry could not be reached
 * @param errorCode Confluent's error code (e.g. 40401 subject not found), or 0 when none was given
 */
public final class SchemaRegistryException extends SerializationException {
  private static final Set<Integer> NOT_THE_REQUESTS_FAULT = Set.of(401, 403, 407, 408, 429);
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
   * Whether the registry could not or would not answer this client for now (unreachable; 5xx;
   * 401/403 after credentials were rotated or revoked; 407 from a proxy; 408 timed out; 429 rate
   * limited) rather than refused the request itself (404 unknown schema id or subject, 409/422
   * incompatible or invalid schema): the value may well be valid, so a reader stops or waits
   * instead of calling it bad data.
   */
  public boolean unavailable() {
    return status == 0 || status >= 500 || NOT_THE_REQUESTS_FAULT.contains(status);
  }
}
