package io.prefstream.trainer.tokenize;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Conversations to token ids the way the trainer and {@code prefstream score} both take them: the
 * model folder's {@link ChatTemplate} splits prompt and completions as TRL does, and the tokenizer
 * encodes each without special tokens (the template wrote them) and without an appended EOS (the
 * template ends the turn with the model's own end-of-turn token).
 */
public final class ChatTokens {
  private final TextTokenizer tokenizer;
  private final Optional<ChatTemplate> template;
  private final ChatTemplateException unparsable;
  private final Path folder;

  private ChatTokens(Path folder, TextTokenizer tokenizer, Optional<ChatTemplate> template, ChatTemplateException unparsable) {
    this.folder = folder;
    this.tokenizer = tokenizer;
    this.template = template;
    this.unparsable = unparsable;
  }

  /**
   * The folder's chat template with this tokenizer. A template that does not parse fails each
   * conversation, not this call: text and token-id records still train.
   */
  public static ChatTokens fromFolder(Path dir, TextTokenizer tokenizer) {
    try {
      return new ChatTokens(dir, tokenizer, ChatTemplate.fromFolder(dir), null);
    } catch (ChatTemplateException e) {
      return new ChatTokens(dir, tokenizer, Optional.empty(), e);
    }
  }

  /**
   * @throws NoChatTemplateException when the folder has no chat template
   * @throws ChatTemplateException when the template does not parse, fails on this conversation, or
   *     renders the prompt or a response as nothing
   */
  public EncodedChat encode(List<ChatMessage> prompt, List<List<ChatMessage>> responses) {
    if (unparsable != null) throw unparsable;
    ChatTemplate chat = template.orElseThrow(() -> new NoChatTemplateException(
        folder + " has no chat template (chat_template in tokenizer_config.json, or chat_template.jinja); send text or token ids, or add the model's template"));
    ChatText text = chat.split(prompt, responses);
    int[] promptIds = tokenizer.encode(text.prompt());
    if (promptIds.length == 0) throw new ChatTemplateException("the chat template renders the prompt as nothing", null);
    List<int[]> completions = new ArrayList<>();
    for (int i = 0; i < text.completions().size(); i++) {
      int[] ids = tokenizer.encode(text.completions().get(i));
      if (ids.length == 0) throw new ChatTemplateException("the chat template renders response " + i + " as nothing", null);
      completions.add(ids);
    }
    return new EncodedChat(promptIds, completions);
  }
}
