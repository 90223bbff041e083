package io.prefstream.trainer.tokenize.jinja;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Python's {@code json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=...)}, which is what
 * transformers puts behind the {@code tojson} filter of chat templates (tool schemas, arguments).
 */
final class PyJson {
  private PyJson() {}

  static String dumps(Object value, Object indent, boolean sortKeys) {
    StringBuilder out = new StringBuilder();
    String unit = indent == null ? null : indent instanceof Long n ? " ".repeat(n.intValue()) : Py.str(indent);
    write(out, value, unit, 0, sortKeys);
    return out.toString();
  }

  private static void write(StringBuilder out, Object v, String unit, int depth, boolean sortKeys) {
    if (v == null) {
      out.append("null");
    } else if (v instanceof Boolean b) {
      out.append(b);
    } else if (v instanceof Long || v instanceof Double) {
      out.append(Py.repr(v).replace("inf", "Infinity").replace("nan", "NaN"));
    } else if (v instanceof String s) {
      string(out, s);
    } else if (v instanceof List<?> l) {
      if (l.isEmpty()) {
        out.append("[]");
        return;
      }
      out.append('[');
      for (int i = 0; i < l.size(); i++) {
        separator(out, i, unit, depth + 1);
        write(out, l.get(i), unit, depth + 1, sortKeys);
      }
      close(out, unit, depth).append(']');
    } else if (v instanceof Map<?, ?> m) {
      if (m.isEmpty()) {
        out.append("{}");
        return;
      }
      Map<?, ?> entries = sortKeys ? new TreeMap<>(m) : m;
      out.append('{');
      int i = 0;
      for (Map.Entry<?, ?> e : entries.entrySet()) {
        separator(out, i++, unit, depth + 1);
        string(out, Py.str(e.getKey()));
        out.append(": ");
        write(out, e.getValue(), unit, depth + 1, sortKeys);
      }
      close(out, unit, depth).append('}');
    } else if (v instanceof Py.Namespace ns) {
      write(out, ns.attributes, unit, depth, sortKeys);
    } else {
      throw new TemplateError("Object of type " + Py.typeName(v) + " is not JSON serializable");
    }
  }

  private static void separator(StringBuilder out, int index, String unit, int depth) {
    if (index > 0) out.append(unit == null ? ", " : ",");
    if (unit != null) out.append('\n').append(unit.repeat(depth));
  }

  private static StringBuilder close(StringBuilder out, String unit, int depth) {
    if (unit != null) out.append('\n').append(unit.repeat(depth));
    return out;
  }

  private static void string(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
          else out.append(c);
        }
      }
    }
    out.append('"');
  }
}
