package io.prefstream.ingest;

import java.time.Duration;

/**
 * How ratings of one prompt become pairs.
 *
 * @param window ratings of a prompt whose event times fall in one window of this size pair up
 * @param grace how long after a window ends its ratings are still accepted; later ones are late
 * @param maxPairsPerPrompt the most pairs one prompt's window yields (the widest score gaps first)
 * @param maxRatingsPerPrompt the most ratings one prompt's window holds; more go to the DLQ as
 *     {@code too_many_ratings}, so that one busy prompt cannot grow ingest's state without bound
 * @param maxWindowBytes the most bytes one prompt's window stores (its JSON); a rating that would
 *     take it past goes to the DLQ as {@code window_too_large}, so that the window's changelog and
 *     suppress-buffer records always fit a producer request
 */
public record RatingPairing(Duration window, Duration grace, int maxPairsPerPrompt, int maxRatingsPerPrompt, int maxWindowBytes) {
  public RatingPairing {
    if (window.isZero() || window.isNegative()) throw new IllegalArgumentException("ratings window must be > 0");
    if (grace.isNegative()) throw new IllegalArgumentException("ratings grace must be >= 0");
    if (maxPairsPerPrompt < 1) throw new IllegalArgumentException("max pairs per prompt must be >= 1");
    if (maxRatingsPerPrompt < 2) throw new IllegalArgumentException("max ratings per prompt must be >= 2");
    if (maxWindowBytes < 0) throw new IllegalArgumentException("max window bytes must be >= 0");
  }
}
