package io.prefstream.ingest;

import java.time.Duration;

/**
 * The bounds a feedback record must stay within.
 *
 * @param maxTextBytes largest prompt or response text, UTF-8 bytes
 * @param maxTokens largest prompt or response token list
 * @param maxFutureSkew how far ahead of the ingest clock an event time may be
 * @param maxAge how far behind the ingest clock an event time may be
 */
public record ValidationLimits(int maxTextBytes, int maxTokens, Duration maxFutureSkew, Duration maxAge) {
  public ValidationLimits {
    if (maxTextBytes < 1 || maxTokens < 1) throw new IllegalArgumentException("text and token limits must be >= 1");
    if (maxFutureSkew.isNegative() || maxAge.isNegative()) throw new IllegalArgumentException("time limits must not be negative");
  }
}
