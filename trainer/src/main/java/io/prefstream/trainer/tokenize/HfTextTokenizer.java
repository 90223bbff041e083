package io.prefstream.trainer.tokenize;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;

/** A {@link TextTokenizer} backed by DJL's binding of the Hugging Face {@code tokenizers} library. */
final class HfTextTokenizer implements TextTokenizer {

  /**
   * No special tokens (we add EOS ourselves, see {@link TextTokenizer}); no truncation, which DJL
   * would otherwise apply at a default 512 tokens; no padding (we pad batches ourselves).
   */
  private static final Map<String, String> OPTIONS =
      Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HuggingFaceTokenizer tokenizer;
  private final OptionalInt eosId;

  private HfTextTokenizer(HuggingFaceTokenizer tokenizer, OptionalInt eosId) {
    this.tokenizer = tokenizer;
    this.eosId = eosId;
  }

  static HfTextTokenizer open(Path dir) {
    Path file = dir.resolve("tokenizer.json");
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(dir + " has no tokenizer.json; send token ids or add the model's tokenizer.json");
    }
    try {
      OptionalInt eos = eosId(dir, JSON.readTree(file.toFile()));
      return new HfTextTokenizer(HuggingFaceTokenizer.newInstance(file, OPTIONS), eos);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  @Override
  public int[] encode(String text) {
    long[] ids = tokenizer.encode(text, false, false).getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  @Override
  public OptionalInt eosId() {
    return eosId;
  }

  @Override
  public String decode(int[] ids) {
    long[] wide = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      wide[i] = ids[i];
    }
    return tokenizer.decode(wide, false);
  }

  @Override
  public void close() {
    tokenizer.close();
  }

  private static OptionalInt eosId(Path dir, JsonNode tokenizerJson) throws IOException {
    Path tokenizerConfig = dir.resolve("tokenizer_config.json");
    if (Files.isRegularFile(tokenizerConfig)) {
      JsonNode eos = JSON.readTree(tokenizerConfig.toFile()).get("eos_token");
      String content = eos == null || eos.isNull() ? null : eos.isObject() ? eos.path("content").asText() : eos.asText();
      if (content != null) {
        return OptionalInt.of(idOf(content, tokenizerJson, tokenizerConfig));
      }
    }
    Path config = dir.resolve("config.json");
    if (Files.isRegularFile(config)) {
      JsonNode id = JSON.readTree(config.toFile()).get("eos_token_id");
      if (id != null && id.isArray() && id.size() > 0) {
        id = id.get(0); // several stop tokens: the first is the one appended
      }
      if (id != null && id.canConvertToInt()) {
        return OptionalInt.of(id.intValue());
      }
    }
    return OptionalInt.empty();
  }

  private static int idOf(String token, JsonNode tokenizerJson, Path namedIn) {
    for (JsonNode added : tokenizerJson.path("added_tokens")) {
      if (token.equals(added.path("content").asText(null))) {
        return added.path("id").asInt();
      }
    }
    JsonNode vocabId = tokenizerJson.path("model").path("vocab").get(token);
    if (vocabId != null && vocabId.canConvertToInt()) {
      return vocabId.intValue();
    }
    throw new IllegalArgumentException(namedIn + " names eos_token " + token + ", which tokenizer.json does not define");
  }
}
