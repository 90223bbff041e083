package io.prefstream.trainer.tokenize.jinja;

/** A template that cannot be parsed or rendered: a syntax error, a type error, or {@code raise_exception}. */
public final class TemplateError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public TemplateError(String message) {
    super(message);
  }
}
