package io.prefstream.trainer.tokenize.jinja;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The engine against Python's jinja2 in transformers' chat-template environment, on templates that
 * exercise what real chat templates use (src/test/chat-fixtures/jinja-cases.json and the script
 * that made it).
 */
class JinjaTemplateTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static Stream<Arguments> cases() throws IOException {
    List<Arguments> out = new ArrayList<>();
    int i = 0;
    for (JsonNode c : JSON.readTree(Path.of("src/test/chat-fixtures/jinja-cases.json").toFile())) out.add(Arguments.of(i++, c));
    return out.stream();
  }

  @ParameterizedTest(name = "case {0}")
  @MethodSource("cases")
  void rendersAsPythonsJinja2(int index, JsonNode c) {
    Template template = Template.parse(c.path("template").asText());
    @SuppressWarnings("unchecked")
    Map<String, Object> variables = JSON.convertValue(c.path("variables"), Map.class);
    if (c.has("error")) {
      assertThatThrownBy(() -> template.render(variables)).isInstanceOf(TemplateError.class).hasMessage(c.path("error").asText());
    } else {
      assertThat(template.render(variables)).isEqualTo(c.path("expected").asText());
    }
  }

  @Test
  void syntaxError_namesTheLine() {
    assertThatThrownBy(() -> Template.parse("ok\n{% if x %}\n{{ 1 + }}")).isInstanceOf(TemplateError.class).hasMessageStartingWith("line 3:");
    assertThatThrownBy(() -> Template.parse("{% for x in y %}")).isInstanceOf(TemplateError.class).hasMessageContaining("endfor");
  }

  @Test
  void typeErrorsAndUndefinedUse_areTemplateErrors() {
    assertThatThrownBy(() -> Template.parse("{{ 'a' + 1 }}").render(Map.of())).isInstanceOf(TemplateError.class).hasMessageContaining("'str' and 'int'");
    assertThatThrownBy(() -> Template.parse("{{ nothing.attr }}").render(Map.of())).isInstanceOf(TemplateError.class).hasMessageContaining("'nothing' is undefined");
  }

  @Test
  void runawayRecursion_isATemplateError() {
    Template t = Template.parse("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
    assertThatThrownBy(() -> t.render(Map.of())).isInstanceOf(TemplateError.class).hasMessageContaining("recursion");
  }
}
