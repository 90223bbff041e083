package io.prefstream.trainer.tokenize;

/** A conversation for a model folder that has no chat template to render it with. */
public final class NoChatTemplateException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public NoChatTemplateException(String message) {
    super(message);
  }
}
