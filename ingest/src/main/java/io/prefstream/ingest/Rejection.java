package io.prefstream.ingest;

/** A record's rejection: the rule it broke and a sentence for the person reading the DLQ. */
public record Rejection(Reason reason, String detail) {}
