package io.prefstream.ingest;

import org.apache.avro.specific.SpecificRecord;

/** What admission makes of an input record: a valid record to pass on, or a dead letter. */
sealed interface Admitted {
  /**
   * A valid record; {@code unchangedBytes} are its input bytes when they are Confluent-wire Avro
   * and validation changed nothing in it (else null), so that they can be written as they came.
   */
  record Accepted(SpecificRecord record, byte[] unchangedBytes) implements Admitted {
    Accepted(SpecificRecord record) {
      this(record, null);
    }
  }

  record Rejected(DeadLetter letter) implements Admitted {}
}
