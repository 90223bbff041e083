package io.prefstream.trainer.service;

import java.util.Locale;

/**
 * Why the trainer sent a record to the dead-letter topic instead of training on it; its code is
 * the {@code error.reason} header. Ingest has checked the record already: these are what only the
 * trainer can know, because they depend on its model.
 */
public enum UnfitReason {
  /** The bytes are not a PreferencePair, RankedResponses or LabelledResponse the trainer can read. */
  UNDESERIALIZABLE,
  /** A prompt or response with no tokens (no text, token ids or messages), or a ranking of fewer than two responses: a record sent to the pairs topic without ingest. */
  NO_CONTENT,
  /** A token id is negative or not below the model's vocab_size. */
  TOKEN_OUT_OF_VOCAB,
  /** Prompt + response still exceeds the model's positions (GPT-2's n_positions) after truncation to max.length. */
  TOO_LONG_FOR_MODEL,
  /** A ranking has more responses than max.responses. */
  TOO_MANY_RESPONSES,
  /** The weight is not finite and positive, or beyond what float32 holds. */
  BAD_WEIGHT,
  /** A conversation for a model folder without a chat template. */
  NO_CHAT_TEMPLATE,
  /** The model's chat template does not parse or fails on the conversation; the detail says how. */
  CHAT_TEMPLATE_ERROR;

  /** The header value: lower snake case. */
  public String code() {
    return name().toLowerCase(Locale.ROOT);
  }
}
