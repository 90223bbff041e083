package io.prefstream.broker.registry;

import java.util.List;
import java.util.Locale;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

/**
 * Confluent's compatibility levels, checked with Avro's own reader/writer rules. BACKWARD (the
 * default): the new schema reads what the latest wrote; FORWARD: the latest reads what the new one
 * writes; FULL: both; the TRANSITIVE forms check every earlier version, not just the latest.
 */
enum Compatibility {
  NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE;

  static Compatibility parse(String level) {
    try {
      return valueOf(level.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new RegistryError(422, 42203, "Invalid compatibility level '" + level + "'; one of " + List.of(values()));
    }
  }

  /** Whether {@code candidate} may follow {@code earlier} (oldest first) under this level. */
  boolean allows(Schema candidate, List<Schema> earlier) {
    if (this == NONE || earlier.isEmpty()) return true;
    List<Schema> checked = name().endsWith("TRANSITIVE") ? earlier : List.of(earlier.get(earlier.size() - 1));
    boolean backward = this != FORWARD && this != FORWARD_TRANSITIVE;
    boolean forward = this != BACKWARD && this != BACKWARD_TRANSITIVE;
    for (Schema old : checked) {
      if (backward && !reads(candidate, old)) return false;
      if (forward && !reads(old, candidate)) return false;
    }
    return true;
  }

  private static boolean reads(Schema reader, Schema writer) {
    return SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getType() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE;
  }
}
