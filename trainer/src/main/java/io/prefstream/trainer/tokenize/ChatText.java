package io.prefstream.trainer.tokenize;

import java.util.List;

/**
 * A conversation rendered for preference training: the prompt's text and each completion's text,
 * such that {@code prompt + completions.get(i)} is exactly the template's rendering of the prompt
 * messages followed by response {@code i}.
 */
public record ChatText(String prompt, List<String> completions) {}
