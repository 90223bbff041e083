package io.prefstream.ingest;

import java.util.Locale;

/** Why a feedback record went to the dead-letter topic; its code is the {@code error.reason} header. */
public enum Reason {
  /** The bytes are neither Confluent-wire Avro nor JSON of the expected record, or claim more than the decode limits allow. */
  UNDESERIALIZABLE,
  /** The record value is larger than {@code limits.max.record.bytes}; it is not read at all. */
  TOO_LARGE,
  /** A required field is absent: event id, prompt, a response, a prompt id or response id of a rating. */
  MISSING_FIELD,
  /** The prompt has no text and no tokens. */
  EMPTY_PROMPT,
  /** A response has no text and no tokens. */
  EMPTY_RESPONSE,
  /** Chosen and rejected are the same response. */
  SAME_RESPONSES,
  /** A ranking has fewer than two distinct responses. */
  TOO_FEW_RESPONSES,
  /** A text is longer than {@code limits.max.text.bytes}, a token list than {@code limits.max.tokens} or an id than {@code limits.max.id.bytes}. */
  TOO_LONG,
  /** A token id is negative. */
  BAD_TOKEN,
  /** The weight is not in (0, {@code limits.max.weight}]. */
  BAD_WEIGHT,
  /** The event time is further in the future or past than the configured limits allow. */
  BAD_EVENT_TIME,
  /** The score is not on its scale (THUMBS: 0 or 1; STARS_5: 1 to 5). */
  BAD_SCORE,
  /** A rating arrived after its prompt's pairing window closed (window + grace). */
  LATE_RATING,
  /** A prompt's window already holds {@code ratings.max.per.prompt} ratings. */
  TOO_MANY_RATINGS,
  /** The rating would take its prompt's window past the bytes one window may store (see {@link RatingPairing#maxWindowBytes()}). */
  WINDOW_TOO_LARGE,
  /** A chat message has an unknown role, a response holds another role than the assistant's, or a prompt ends with the assistant's turn. */
  BAD_ROLE;

  /** The header value: lower snake case. */
  public String code() {
    return name().toLowerCase(Locale.ROOT);
  }
}
