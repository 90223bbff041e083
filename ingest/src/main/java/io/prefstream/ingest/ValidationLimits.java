package io.prefstream.ingest;

import java.time.Duration;

/**
 * The bounds a feedback record must stay within.
 *
 * @param maxRecordBytes largest record (key and value) in bytes, checked before it is read
 * @param maxIdBytes longest event, prompt, response or rater id, UTF-8 bytes
 * @param maxTextBytes largest prompt or response text, UTF-8 bytes
 * @param maxTokens largest prompt or response token list
 * @param maxFutureSkew how far ahead of the ingest clock an event time may be
 * @param maxAge how far behind the ingest clock an event time may be
 * @param maxWeight largest weight of a pair or ranking; weights must lie in (0, maxWeight]
 */
public record ValidationLimits(int maxRecordBytes, int maxIdBytes, int maxTextBytes, int maxTokens, Duration maxFutureSkew, Duration maxAge, double maxWeight) {
  public ValidationLimits {
    if (maxRecordBytes < 1 || maxIdBytes < 1 || maxTextBytes < 1 || maxTokens < 1) throw new IllegalArgumentException("record, id, text and token limits must be >= 1");
    if (!(maxWeight > 0) || !Double.isFinite(maxWeight)) throw new IllegalArgumentException("the weight limit must be finite and > 0");
    if (maxFutureSkew.isNegative() || maxAge.isNegative()) throw new IllegalArgumentException("time limits must not be negative");
  }
}
