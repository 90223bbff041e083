package io.prefstream.ingest;

import org.apache.avro.specific.SpecificRecord;

/** What admission makes of an input record: a valid record to pass on, or a dead letter. */
sealed interface Admitted {
  record Accepted(SpecificRecord record) implements Admitted {}

  record Rejected(DeadLetter letter) implements Admitted {}
}
