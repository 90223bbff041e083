package io.prefstream.trainer.service;

import java.util.Locale;

/**
 * Why the trainer sent a record to the dead-letter topic instead of training on it; its code is
 * the {@code error.reason} header. Ingest has checked the record already: these are what only the
 * trainer can know, because they depend on its model.
 */
public enum UnfitReason {
  /** A conversation for a model folder without a chat template. */
  NO_CHAT_TEMPLATE,
  /** The model's chat template does not parse or fails on the conversation; the detail says how. */
  CHAT_TEMPLATE_ERROR;

  /** The header value: lower snake case. */
  public String code() {
    return name().toLowerCase(Locale.ROOT);
  }
}
