package io.prefstream.ingest;

import io.prefstream.schemas.ChatMessage;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The rules for chat-formatted parts (TRL's conversational format): a prompt is a non-empty list of
 * turns with known roles, ending on a turn the model answers (not the assistant's); a response is a
 * non-empty list of the assistant's turns; the text of all turns together stays within {@code
 * limits.max.text.bytes}.
 */
final class ChatChecks {
  /** The roles chat templates know: OpenAI's and Hugging Face's names, Llama 3.1's ipython. */
  static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool", "ipython");

  private final ValidationLimits limits;

  ChatChecks(ValidationLimits limits) {
    this.limits = limits;
  }

  Optional<Rejection> prompt(List<ChatMessage> messages) {
    if (messages.isEmpty()) return Optional.of(new Rejection(Reason.EMPTY_PROMPT, "the prompt has no messages"));
    for (int i = 0; i < messages.size(); i++) {
      String role = messages.get(i).getRole();
      if (!ROLES.contains(role)) return Optional.of(new Rejection(Reason.BAD_ROLE, "prompt[" + i + "] has role '" + role + "'; known roles are " + ROLES));
    }
    if (messages.get(messages.size() - 1).getRole().equals("assistant")) {
      return Optional.of(new Rejection(Reason.BAD_ROLE, "the prompt ends with the assistant's turn; its last message is what the response answers"));
    }
    return size("prompt", messages);
  }

  Optional<Rejection> response(String field, List<ChatMessage> messages) {
    if (messages.isEmpty()) return Optional.of(new Rejection(Reason.EMPTY_RESPONSE, "'" + field + "' has no messages"));
    for (int i = 0; i < messages.size(); i++) {
      String role = messages.get(i).getRole();
      if (!role.equals("assistant")) {
        return Optional.of(new Rejection(Reason.BAD_ROLE, field + "[" + i + "] has role '" + role + "'; a response holds the assistant's messages"));
      }
    }
    return size(field, messages);
  }

  private Optional<Rejection> size(String field, List<ChatMessage> messages) {
    long bytes = messages.stream().mapToLong(m -> m.getContent().getBytes(StandardCharsets.UTF_8).length).sum();
    return bytes > limits.maxTextBytes()
        ? Optional.of(new Rejection(Reason.TOO_LONG, "'" + field + "' has " + bytes + " bytes of text, the limit is " + limits.maxTextBytes()))
        : Optional.empty();
  }
}
