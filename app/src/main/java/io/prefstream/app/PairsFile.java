package io.prefstream.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.schemas.serde.JsonRecords;
import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.trainer.dpo.LabelledExample;
import io.prefstream.trainer.dpo.PreferenceExample;
import io.prefstream.trainer.service.ChatRecords;
import io.prefstream.trainer.tokenize.ChatTemplateException;
import io.prefstream.trainer.tokenize.ChatTokens;
import io.prefstream.trainer.tokenize.EncodedChat;
import io.prefstream.trainer.tokenize.NoChatTemplateException;
import io.prefstream.trainer.tokenize.TextTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.avro.specific.SpecificRecord;

/**
 * A JSON-lines file of preference examples, one per line:
 *
 * <ul>
 *   <li>{@code {"id", "prompt_ids", "chosen_ids", "rejected_ids"}} — token ids, used as given;
 *   <li>{@code {"id", "prompt", "chosen", "rejected"}} — text, tokenized with the model's tokenizer,
 *       prompt and each response separately, the tokenizer's EOS appended to each response;
 *   <li>{@code {"id", "prompt_ids", "responses_ids": [[...], ...]}} — a ranking, best first;
 *   <li>{@code {"id", "prompt": [{"role", "content"}, ...], "chosen": [...], "rejected": [...]}} —
 *       a conversation (TRL's conversational format; {@code "responses": [[...], ...]} ranks), read
 *       as the trainer reads it ({@link ChatRecords}) and rendered with the model folder's chat
 *       template exactly as the trainer renders it ({@link ChatTokens}).
 * </ul>
 *
 * or, read by {@link #readLabelled}, of labelled responses (KTO): {@code {"id", "prompt_ids",
 * "response_ids", "label"}} or {@code {"id", "prompt", "response", "label"}}, {@code label} true
 * for desirable.
 */
final class PairsFile {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A line that is not a valid example. */
  static final class BadLineException extends IllegalArgumentException {
    BadLineException(Path file, int line, String why) {
      super(file + " line " + line + ": " + why);
    }
  }

  private PairsFile() {}

  /**
   * Every form above; text and conversations with the tokenizer and chat template of {@code model}.
   *
   * @throws BadLineException naming the first bad line
   */
  static List<PreferenceExample> read(Path file, Path model) {
    return read(file, () -> TextTokenizer.fromFolder(model), tokenizer -> ChatTokens.fromFolder(model, tokenizer));
  }

  /**
   * Token ids and text only.
   *
   * @param tokenizer opened only when a line holds text
   * @throws BadLineException naming the first bad line
   */
  static List<PreferenceExample> read(Path file, Supplier<TextTokenizer> tokenizer) {
    return read(file, tokenizer, t -> {
      throw new IllegalArgumentException("conversations need a model folder's chat template");
    });
  }

  private static List<PreferenceExample> read(Path file, Supplier<TextTokenizer> tokenizer, Function<TextTokenizer, ChatTokens> chatTemplate) {
    ChatTokens[] chats = {null}; // made at the first conversation
    return lines(file, tokenizer, (node, line, opened, lineNumber) -> {
      if (!conversational(node)) return example(node, opened, lineNumber);
      if (chats[0] == null) chats[0] = chatTemplate.apply(opened);
      return conversation(node, line, chats[0], lineNumber);
    });
  }

  /** A file of labelled responses, token ids or text. */
  static List<LabelledExample> readLabelled(Path file, Supplier<TextTokenizer> tokenizer) {
    return lines(file, tokenizer, (node, line, opened, lineNumber) -> labelled(node, opened, lineNumber));
  }

  /** What one line becomes. */
  private interface LineParser<T> {
    T parse(JsonNode node, String line, TextTokenizer tokenizer, int lineNumber) throws IOException;
  }

  private static <T> List<T> lines(Path file, Supplier<TextTokenizer> tokenizer, LineParser<T> parser) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    List<T> examples = new ArrayList<>();
    TextTokenizer opened = null;
    try {
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i);
        if (line.isBlank()) continue;
        try {
          JsonNode node = JSON.readTree(line);
          if (node == null || !node.isObject()) throw new IllegalArgumentException("not a JSON object");
          if (node.has("prompt") && opened == null) opened = tokenizer.get();
          examples.add(parser.parse(node, line, opened, i + 1));
        } catch (IOException | IllegalArgumentException | ChatTemplateException | NoChatTemplateException e) {
          throw new BadLineException(file, i + 1, e.getMessage());
        }
      }
    } finally {
      if (opened != null) opened.close();
    }
    return examples;
  }

  private static LabelledExample labelled(JsonNode node, TextTokenizer tokenizer, int lineNumber) {
    String id = node.has("id") ? node.get("id").asText() : "line-" + lineNumber;
    JsonNode label = node.get("label");
    if (label == null || !label.isBoolean()) throw new IllegalArgumentException("'label' must be true (desirable) or false (undesirable)");
    if (node.has("prompt_ids")) {
      return new LabelledExample(id, ids(node.get("prompt_ids"), "prompt_ids"), ids(node.get("response_ids"), "response_ids"), label.asBoolean(), 1.0);
    }
    if (node.has("prompt")) {
      return new LabelledExample(id, tokenizer.encode(text(node, "prompt")), response(tokenizer, text(node, "response")), label.asBoolean(), 1.0);
    }
    throw new IllegalArgumentException("expected prompt_ids + response_ids + label, or prompt + response + label");
  }

  private static boolean conversational(JsonNode node) {
    for (String field : List.of("prompt", "chosen", "rejected", "responses")) {
      JsonNode value = node.get(field);
      if (value != null && value.isArray() && !value.isEmpty() && !value.get(0).isTextual()) return true;
    }
    return node.has("prompt_messages") || node.has("chosen_messages") || node.has("rejected_messages") || node.has("responses_messages");
  }

  /** The line as the record the trainer would read from preference.pairs, rendered as the trainer renders it. */
  private static PreferenceExample conversation(JsonNode node, String line, ChatTokens chats, int lineNumber) throws IOException {
    ObjectNode withId = (ObjectNode) node.deepCopy();
    if (!withId.has("event_id")) withId.put("event_id", node.has("id") ? node.get("id").asText() : "line-" + lineNumber);
    withId.remove("id");
    byte[] json = JSON.writeValueAsBytes(withId);
    SpecificRecord record = node.has("responses") || node.has("responses_messages")
        ? JsonRecords.read(json, RankedResponses.class, RankedResponses.getClassSchema(), SerdeConfig.defaults().limits())
        : JsonRecords.read(json, PreferencePair.class, PreferencePair.getClassSchema(), SerdeConfig.defaults().limits());
    ChatRecords.Conversation c = ChatRecords.of(record).orElseThrow();
    EncodedChat encoded = chats.encode(c.prompt(), c.responses());
    return new PreferenceExample(withId.get("event_id").asText(), encoded.prompt(), encoded.completions(), 1.0);
  }

  private static PreferenceExample example(JsonNode node, TextTokenizer tokenizer, int lineNumber) {
    String id = node.has("id") ? node.get("id").asText() : "line-" + lineNumber;
    if (node.has("responses_ids")) {
      List<int[]> responses = new ArrayList<>();
      for (JsonNode r : array(node, "responses_ids")) responses.add(ids(r, "responses_ids"));
      return new PreferenceExample(id, ids(node.get("prompt_ids"), "prompt_ids"), responses, 1.0);
    }
    if (node.has("prompt_ids")) {
      return PreferenceExample.pair(id, ids(node.get("prompt_ids"), "prompt_ids"),
          ids(node.get("chosen_ids"), "chosen_ids"), ids(node.get("rejected_ids"), "rejected_ids"));
    }
    if (node.has("prompt")) {
      return PreferenceExample.pair(id, tokenizer.encode(text(node, "prompt")),
          response(tokenizer, text(node, "chosen")), response(tokenizer, text(node, "rejected")));
    }
    throw new IllegalArgumentException("expected prompt_ids + chosen_ids + rejected_ids, prompt + chosen + rejected, or prompt_ids + responses_ids");
  }

  private static int[] response(TextTokenizer tokenizer, String text) {
    int[] ids = tokenizer.encode(text);
    if (tokenizer.eosId().isEmpty()) return ids;
    int[] withEos = java.util.Arrays.copyOf(ids, ids.length + 1);
    withEos[ids.length] = tokenizer.eosId().getAsInt();
    return withEos;
  }

  private static JsonNode array(JsonNode node, String field) {
    JsonNode a = node.get(field);
    if (a == null || !a.isArray()) throw new IllegalArgumentException("'" + field + "' must be an array");
    return a;
  }

  private static int[] ids(JsonNode a, String field) {
    if (a == null || !a.isArray()) throw new IllegalArgumentException("'" + field + "' must be an array of token ids");
    int[] ids = new int[a.size()];
    for (int i = 0; i < ids.length; i++) {
      if (!a.get(i).canConvertToInt() || !a.get(i).isIntegralNumber() || a.get(i).intValue() < 0) {
        throw new IllegalArgumentException("'" + field + "'[" + i + "] is not a token id: " + a.get(i));
      }
      ids[i] = a.get(i).intValue();
    }
    return ids;
  }

  private static String text(JsonNode node, String field) {
    JsonNode t = node.get(field);
    if (t == null || !t.isTextual()) throw new IllegalArgumentException("'" + field + "' must be a string");
    return t.asText();
  }
}
