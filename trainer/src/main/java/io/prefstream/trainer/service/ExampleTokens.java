package io.prefstream.trainer.service;

import io.prefstream.schemas.LabelledResponse;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.trainer.dpo.LabelledExample;
import io.prefstream.trainer.dpo.PreferenceExample;
import io.prefstream.trainer.dpo.TrainingExample;
import io.prefstream.trainer.tokenize.ChatTemplateException;
import io.prefstream.trainer.tokenize.ChatTokens;
import io.prefstream.trainer.tokenize.EncodedChat;
import io.prefstream.trainer.tokenize.NoChatTemplateException;
import io.prefstream.trainer.tokenize.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.avro.specific.SpecificRecord;

/**
 * Turns pairs, rankings and labelled responses into token ids: ids where given, else the text tokenized (prompt and each
 * response separately, the tokenizer's EOS appended to responses). An example whose prompt plus
 * longest response exceeds {@code maxLength} is truncated as TRL's DPOTrainer used to: first the
 * prompt to {@code maxPromptLength}, keeping its end (what a response answers); then, if still too
 * long, every response to what is left, keeping its start.
 *
 * <p>What the model cannot take ({@link ModelLimits}) is an {@link UnfitExampleException}; the
 * weight comes out clamped to the documented range.
 *
 * <p>Chat-formatted records ({@link ChatRecords}) are rendered with the model folder's chat
 * template instead ({@link ChatTokens}); a folder without one, or a template that fails, makes the
 * record unfit ({@code no_chat_template}, {@code chat_template_error}).
 */
final class ExampleTokens {
  private final TextTokenizer tokenizer;
  private final ChatTokens chats;
  private final int maxLength;
  private final int maxPromptLength;
  private final ModelLimits limits;
  private long truncated;

  /** @param maxPromptLength below {@code maxLength}, so that every response keeps a token */
  ExampleTokens(TextTokenizer tokenizer, ChatTokens chats, int maxLength, int maxPromptLength, ModelLimits limits) {
    if (maxPromptLength < 1 || maxPromptLength >= maxLength) {
      throw new IllegalArgumentException("max prompt length must be in [1, " + maxLength + "), got " + maxPromptLength);
    }
    this.tokenizer = tokenizer;
    this.chats = chats;
    this.maxLength = maxLength;
    this.maxPromptLength = maxPromptLength;
    this.limits = limits;
  }

  /** Sequences truncated so far. */
  long truncated() {
    return truncated;
  }

  /** @throws UnfitExampleException when the model cannot take the record */
  TrainingExample of(SpecificRecord record) {
    Optional<EncodedChat> chat = chat(record);
    if (record instanceof LabelledResponse l) {
      String id = l.getEventId();
      double weight = limits.weight(id, l.getWeight());
      int[] prompt = chat.isPresent() ? chat.get().prompt() : tokens(id, "prompt", l.getPromptIds(), l.getPrompt(), false);
      int[] response = chat.isPresent() ? chat.get().completions().get(0) : tokens(id, "response", l.getResponseIds(), l.getResponse(), true);
      Fitted fitted = fit(prompt, List.of(response));
      LabelledExample example = built(() -> new LabelledExample(id, fitted.prompt(), fitted.responses().get(0), l.getDesirable(), weight));
      limits.check(example);
      return example;
    }
    if (chat.isPresent()) {
      String id = eventId(record);
      if (record instanceof RankedResponses r) limits.checkResponses(id, chat.get().completions().size());
      double weight = limits.weight(id, record instanceof PreferencePair p ? p.getWeight() : ((RankedResponses) record).getWeight());
      return fitted(id, chat.get().prompt(), chat.get().completions(), weight);
    }
    if (record instanceof PreferencePair p) {
      String id = p.getEventId();
      double weight = limits.weight(id, p.getWeight());
      return fitted(id, tokens(id, "prompt", p.getPromptIds(), p.getPrompt(), false),
          List.of(tokens(id, "chosen", p.getChosenIds(), p.getChosen(), true), tokens(id, "rejected", p.getRejectedIds(), p.getRejected(), true)), weight);
    }
    RankedResponses r = (RankedResponses) record;
    String id = r.getEventId();
    int k = r.getResponsesIds() != null ? r.getResponsesIds().size() : r.getResponses() == null ? 0 : r.getResponses().size();
    limits.checkResponses(id, k);
    double weight = limits.weight(id, r.getWeight());
    List<int[]> responses = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      responses.add(tokens(id, "responses[" + i + "]", r.getResponsesIds() == null ? null : r.getResponsesIds().get(i),
          r.getResponses() == null ? null : r.getResponses().get(i), true));
    }
    return fitted(id, tokens(id, "prompt", r.getPromptIds(), r.getPrompt(), false), responses, weight);
  }

  private Optional<EncodedChat> chat(SpecificRecord record) {
    try {
      return ChatRecords.of(record).map(c -> chats.encode(c.prompt(), c.responses()));
    } catch (NoChatTemplateException e) {
      throw new UnfitExampleException(UnfitReason.NO_CHAT_TEMPLATE, e.getMessage(), e);
    } catch (ChatTemplateException e) {
      throw new UnfitExampleException(UnfitReason.CHAT_TEMPLATE_ERROR, e.getMessage(), e);
    }
  }

  private static String eventId(SpecificRecord record) {
    return record instanceof PreferencePair p ? p.getEventId() : ((RankedResponses) record).getEventId();
  }

  private PreferenceExample fitted(String id, int[] prompt, List<int[]> responses, double weight) {
    PreferenceExample example = truncated(id, prompt, responses, weight);
    limits.check(example);
    return example;
  }

  private PreferenceExample truncated(String id, int[] prompt, List<int[]> responses, double weight) {
    Fitted fitted = fit(prompt, responses);
    return built(() -> new PreferenceExample(id, fitted.prompt(), fitted.responses(), weight));
  }

  /** The example, or unfit where it lacks a part: an empty prompt or response, a ranking of fewer than two. */
  private static <T extends TrainingExample> T built(Supplier<T> example) {
    try {
      return example.get();
    } catch (IllegalArgumentException e) {
      throw new UnfitExampleException(UnfitReason.NO_CONTENT, e.getMessage(), e);
    }
  }

  private record Fitted(int[] prompt, List<int[]> responses) {}

  private Fitted fit(int[] prompt, List<int[]> responses) {
    int longest = responses.stream().mapToInt(a -> a.length).max().orElse(0);
    if (prompt.length + longest <= maxLength) return new Fitted(prompt, responses);
    truncated++;
    int promptKeep = Math.min(prompt.length, maxPromptLength);
    int[] keptPrompt = Arrays.copyOfRange(prompt, prompt.length - promptKeep, prompt.length); // the prompt's end
    List<int[]> keptResponses = new ArrayList<>();
    for (int[] r : responses) keptResponses.add(Arrays.copyOf(r, Math.min(r.length, maxLength - promptKeep))); // each response's start
    return new Fitted(keptPrompt, keptResponses);
  }

  /** The part's token ids: as given, else its text tokenized; a record that reached the pairs topic without ingest may have neither. */
  private int[] tokens(String id, String part, List<Integer> ids, String text, boolean isResponse) {
    if (ids != null && !ids.isEmpty()) return ids.stream().mapToInt(Integer::intValue).toArray();
    if (text == null) throw new UnfitExampleException(UnfitReason.NO_CONTENT, id + ": the " + part + " has no text, token ids or messages");
    return isResponse ? tokenizer.encodeResponse(text) : tokenizer.encode(text);
  }
}
