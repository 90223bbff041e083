package io.prefstream.ingest;

import org.apache.avro.specific.SpecificRecord;

/** What admission makes of an input record: a valid record to pass on, or a dead letter. */
sealed interface Admitted {
  /**
   * A valid record; {@code encoded}, when not null, its input bytes: Confluent-wire Avro in the
   * record's own schema that admission did not change, which the pairs topic's writer passes on
   * instead of encoding the record again.
   */
  record Accepted(SpecificRecord record, byte[] encoded) implements Admitted {
    Accepted(SpecificRecord record) {
      this(record, null);
    }
  }

  record Rejected(DeadLetter letter) implements Admitted {}
}
