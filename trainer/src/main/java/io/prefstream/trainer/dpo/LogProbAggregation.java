package io.prefstream.trainer.dpo;

import java.util.Locale;

/** How a response's token log-probabilities become one number. */
public enum LogProbAggregation {
  /** Their sum: log π(y|x), as in the DPO paper. The default. */
  SUM,
  /** Their mean: length-normalised, so long responses are not penalised for their length. */
  MEAN;

  public static LogProbAggregation parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown log-prob aggregation '" + s + "': use sum or mean", e);
    }
  }
}
