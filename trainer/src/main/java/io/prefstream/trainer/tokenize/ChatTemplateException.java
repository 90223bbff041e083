package io.prefstream.trainer.tokenize;

/** A chat template that does not parse, or fails on a conversation; the message says why. */
public final class ChatTemplateException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ChatTemplateException(String message, Throwable cause) {
    super(message, cause);
  }
}
