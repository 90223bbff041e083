package io.prefstream.trainer.tokenize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.prefstream.trainer.tokenize.jinja.Template;
import io.prefstream.trainer.tokenize.jinja.TemplateError;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model folder's chat template, applied as TRL applies it to conversational preference data:
 *
 * <ul>
 *   <li>the prompt messages are rendered with {@code add_generation_prompt=True};
 *   <li>prompt + each response are rendered without it, and the completion is what follows the
 *       prompt's text. The prompt's text is the longest prefix all renderings share (a no-op for
 *       most templates; Qwen3 and DeepSeek-R1 write a {@code <think>} block differently after the
 *       generation prompt than in a finished turn);
 *   <li>special tokens come from the template alone ({@code bos_token} etc. are variables it may
 *       print); the text is then tokenized without adding any, so no BOS appears twice, and the
 *       completion ends with the template's own end-of-turn token rather than an appended EOS.
 * </ul>
 *
 * <p>The template is {@code chat_template.jinja} when the folder has one, else the {@code
 * chat_template} of {@code tokenizer_config.json} (a string, or a list of named templates of which
 * {@code default} is used), rendered by {@link Template}.
 */
public final class ChatTemplate {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> SPECIAL_TOKENS =
      List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");

  private final Template template;
  private final Map<String, Object> specialTokens;

  private ChatTemplate(Template template, Map<String, Object> specialTokens) {
    this.template = template;
    this.specialTokens = specialTokens;
  }

  /**
   * The folder's chat template, or empty when it has none.
   *
   * @throws ChatTemplateException when the template does not parse
   */
  public static Optional<ChatTemplate> fromFolder(Path dir) {
    try {
      Path configFile = dir.resolve("tokenizer_config.json");
      JsonNode config = Files.isRegularFile(configFile) ? JSON.readTree(configFile.toFile()) : JSON.createObjectNode();
      Path jinja = dir.resolve("chat_template.jinja");
      String source = Files.isRegularFile(jinja) ? Files.readString(jinja) : source(config.get("chat_template"));
      if (source == null) return Optional.empty();
      return Optional.of(of(source, specialTokens(config)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the chat template of " + dir, e);
    }
  }

  /** @throws ChatTemplateException when the template does not parse */
  public static ChatTemplate of(String source, Map<String, Object> specialTokens) {
    try {
      return new ChatTemplate(Template.parse(source), Map.copyOf(specialTokens));
    } catch (TemplateError e) {
      throw new ChatTemplateException("the chat template does not parse: " + e.getMessage(), e);
    }
  }

  /**
   * The template's text for these messages.
   *
   * @throws ChatTemplateException when the template fails on them (its {@code raise_exception}
   *     included)
   */
  public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
    Map<String, Object> variables = new LinkedHashMap<>(specialTokens);
    variables.put("messages", messages.stream().map(ChatMessage::asTemplateValue).toList());
    variables.put("add_generation_prompt", addGenerationPrompt);
    try {
      return template.render(variables);
    } catch (TemplateError | ClassCastException | IndexOutOfBoundsException | NullPointerException e) {
      throw new ChatTemplateException("the chat template failed: " + e.getMessage(), e);
    }
  }

  /** The prompt's text and each response's completion text (see the class comment). */
  public ChatText split(List<ChatMessage> prompt, List<List<ChatMessage>> responses) {
    String promptText = render(prompt, true);
    List<String> full = new ArrayList<>();
    for (List<ChatMessage> response : responses) {
      List<ChatMessage> conversation = new ArrayList<>(prompt);
      conversation.addAll(response);
      String rendered = render(conversation, false);
      full.add(rendered);
      promptText = promptText.substring(0, sharedPrefix(promptText, rendered));
    }
    List<String> completions = new ArrayList<>();
    for (String rendered : full) completions.add(rendered.substring(promptText.length()));
    return new ChatText(promptText, completions);
  }

  private static int sharedPrefix(String a, String b) {
    int n = Math.min(a.length(), b.length());
    int i = 0;
    while (i < n && a.charAt(i) == b.charAt(i)) i++;
    // never split a surrogate pair: the prompt and completion are tokenized apart
    if (i > 0 && i < a.length() && Character.isHighSurrogate(a.charAt(i - 1))) i--;
    return i;
  }

  private static String source(JsonNode chatTemplate) {
    if (chatTemplate == null || chatTemplate.isNull()) return null;
    if (chatTemplate.isTextual()) return chatTemplate.asText();
    for (JsonNode named : chatTemplate) {
      if ("default".equals(named.path("name").asText())) return named.path("template").asText();
    }
    return null;
  }

  private static Map<String, Object> specialTokens(JsonNode config) {
    Map<String, Object> tokens = new LinkedHashMap<>();
    for (String name : SPECIAL_TOKENS) {
      JsonNode token = config.get(name);
      String text = token == null || token.isNull() ? null : token.isObject() ? token.path("content").asText(null) : token.asText();
      if (text != null) tokens.put(name, text);
    }
    return tokens;
  }
}
