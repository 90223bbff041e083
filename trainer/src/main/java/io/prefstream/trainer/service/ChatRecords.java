package io.prefstream.trainer.service;

import io.prefstream.schemas.LabelledResponse;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.trainer.tokenize.ChatMessage;
import io.prefstream.trainer.tokenize.ChatTemplateException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.avro.specific.SpecificRecord;

/**
 * The conversation in a chat-formatted pair, ranking or labelled response (any {@code *_messages} field set). A part
 * sent as plain text joins it as one message: the prompt as the user's, a response as the
 * assistant's, so that one record may mix the two forms.
 */
public final class ChatRecords {

  /** Prompt messages and, for each response, its messages (the assistant's turn). */
  public record Conversation(List<ChatMessage> prompt, List<List<ChatMessage>> responses) {}

  private ChatRecords() {}

  /**
   * The record's conversation; empty when it is text or token ids only.
   *
   * @throws ChatTemplateException when a part of a conversation has token ids only
   */
  public static Optional<Conversation> of(SpecificRecord record) {
    if (record instanceof PreferencePair p) {
      if (p.getPromptMessages() == null && p.getChosenMessages() == null && p.getRejectedMessages() == null) return Optional.empty();
      return Optional.of(new Conversation(part("prompt", "user", p.getPromptMessages(), p.getPrompt()),
          List.of(part("chosen", "assistant", p.getChosenMessages(), p.getChosen()), part("rejected", "assistant", p.getRejectedMessages(), p.getRejected()))));
    }
    if (record instanceof LabelledResponse l) {
      if (l.getPromptMessages() == null && l.getResponseMessages() == null) return Optional.empty();
      return Optional.of(new Conversation(part("prompt", "user", l.getPromptMessages(), l.getPrompt()),
          List.of(part("response", "assistant", l.getResponseMessages(), l.getResponse()))));
    }
    if (record instanceof RankedResponses r) {
      if (r.getPromptMessages() == null && r.getResponsesMessages() == null) return Optional.empty();
      int k = r.getResponsesMessages() != null ? r.getResponsesMessages().size() : r.getResponses() == null ? 0 : r.getResponses().size();
      List<List<ChatMessage>> responses = new ArrayList<>();
      for (int i = 0; i < k; i++) {
        responses.add(part("responses[" + i + "]", "assistant", r.getResponsesMessages() == null ? null : r.getResponsesMessages().get(i),
            r.getResponses() == null ? null : r.getResponses().get(i)));
      }
      return Optional.of(new Conversation(part("prompt", "user", r.getPromptMessages(), r.getPrompt()), responses));
    }
    return Optional.empty();
  }

  private static List<ChatMessage> part(String name, String role, List<io.prefstream.schemas.ChatMessage> messages, String text) {
    // the wire format's message record and the template's are kept apart: tokenize knows no Avro
    if (messages != null) return messages.stream().map(m -> new ChatMessage(m.getRole(), m.getContent())).toList();
    if (text != null) return List.of(new ChatMessage(role, text));
    throw new ChatTemplateException("a conversation needs the messages or text of every part; " + name + " has neither", null);
  }
}
