package io.prefstream.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.prefstream.trainer.dpo.LabelledExample;
import io.prefstream.trainer.dpo.PreferenceExample;
import io.prefstream.trainer.tokenize.TextTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * A JSON-lines file of preference examples, one per line:
 *
 * <ul>
 *   <li>{@code {"id", "prompt_ids", "chosen_ids", "rejected_ids"}} — token ids, used as given;
 *   <li>{@code {"id", "prompt", "chosen", "rejected"}} — text, tokenized with the model's tokenizer,
 *       prompt and each response separately, the tokenizer's EOS appended to each response;
 *   <li>{@code {"id", "prompt_ids", "responses_ids": [[...], ...]}} — a ranking, best first;
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
   * @param tokenizer opened only when a line holds text
   * @throws BadLineException naming the first bad line
   */
  static List<PreferenceExample> read(Path file, Supplier<TextTokenizer> tokenizer) {
    return lines(file, tokenizer, PairsFile::example);
  }

  /** As {@link #read}, for a file of labelled responses. */
  static List<LabelledExample> readLabelled(Path file, Supplier<TextTokenizer> tokenizer) {
    return lines(file, tokenizer, PairsFile::labelled);
  }

  private interface LineParser<T> {
    T parse(JsonNode node, TextTokenizer tokenizer, int lineNumber);
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
          examples.add(parser.parse(node, opened, i + 1));
        } catch (IOException | IllegalArgumentException e) {
          throw new BadLineException(file, i + 1, e.getMessage());
        }
      }
    } finally {
      if (opened != null) opened.close();
    }
    return examples;
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
