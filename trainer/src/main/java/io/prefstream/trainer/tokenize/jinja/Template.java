package io.prefstream.trainer.tokenize.jinja;

import io.prefstream.trainer.tokenize.jinja.Node.Stmt;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Jinja template as Hugging Face's {@code apply_chat_template} runs it (Python's jinja2 with
 * {@code trim_blocks}, {@code lstrip_blocks} and loop controls): Python's value semantics and string
 * methods, {@code namespace}, loop variables, macros, {@code raise_exception}. Parsed once, rendered
 * any number of times; thread-safe.
 */
public final class Template {
  private final List<Stmt> body;

  private Template(List<Stmt> body) {
    this.body = body;
  }

  /** @throws TemplateError on a syntax error, naming the line */
  public static Template parse(String source) {
    return new Template(Parser.parse(source));
  }

  /**
   * Renders with these variables: strings, booleans, numbers, null, lists and maps of them.
   *
   * @throws TemplateError when the template fails: its {@code raise_exception}, a type error, or an
   *     undefined value used
   */
  public String render(Map<String, ?> variables) {
    Map<String, Object> context = new LinkedHashMap<>();
    variables.forEach((k, v) -> context.put(k, python(v)));
    try {
      return Renderer.render(body, context);
    } catch (StackOverflowError e) {
      throw new TemplateError("template recursion too deep");
    }
  }

  private static Object python(Object v) {
    if (v instanceof Integer || v instanceof Short || v instanceof Byte) return ((Number) v).longValue();
    if (v instanceof Float f) return f.doubleValue();
    if (v instanceof List<?> l) {
      List<Object> out = new ArrayList<>();
      for (Object item : l) out.add(python(item));
      return out;
    }
    if (v instanceof Map<?, ?> m) {
      Map<Object, Object> out = new LinkedHashMap<>();
      m.forEach((k, value) -> out.put(k, python(value)));
      return out;
    }
    return v;
  }
}
