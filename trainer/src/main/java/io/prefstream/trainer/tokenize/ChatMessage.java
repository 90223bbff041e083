package io.prefstream.trainer.tokenize;

import java.util.LinkedHashMap;
import java.util.Map;

/** One turn of a conversation, as chat templates read it: {@code role} (system, user, assistant, tool) and text. */
public record ChatMessage(String role, String content) {

  Map<String, Object> asTemplateValue() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("role", role);
    m.put("content", content);
    return m;
  }
}
