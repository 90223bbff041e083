package io.prefstream.broker.registry;

/**
 * A refusal in Confluent's terms: the HTTP status and the registry's error code (e.g. 404 / 40401
 * subject not found), answered as {@code {"error_code": ..., "message": ...}}.
 */
final class RegistryError extends RuntimeException {
  final int status;
  final int errorCode;

  RegistryError(int status, int errorCode, String message) {
    super(message);
    this.status = status;
    this.errorCode = errorCode;
  }

  static RegistryError subjectNotFound(String subject) {
    return new RegistryError(404, 40401, "Subject '" + subject + "' not found.");
  }

  static RegistryError versionNotFound(String subject, String version) {
    return new RegistryError(404, 40402, "Version " + version + " of subject '" + subject + "' not found.");
  }

  static RegistryError schemaNotFound(String what) {
    return new RegistryError(404, 40403, "Schema " + what + " not found.");
  }
}
