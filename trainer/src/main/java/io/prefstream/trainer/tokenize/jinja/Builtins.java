package io.prefstream.trainer.tokenize.jinja;

import io.prefstream.trainer.tokenize.jinja.Py.Callable;
import io.prefstream.trainer.tokenize.jinja.Py.Namespace;
import io.prefstream.trainer.tokenize.jinja.Py.Undefined;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What templates call: Python's str, list and dict methods, Jinja's filters and tests, and the
 * globals Hugging Face adds ({@code raise_exception}, {@code strftime_now}, a {@code tojson} with
 * {@code ensure_ascii=False}).
 */
final class Builtins {
  private Builtins() {}

  static Map<String, Object> globals() {
    Map<String, Object> g = new LinkedHashMap<>();
    g.put("raise_exception", (Callable) (args, kw) -> {
      throw new TemplateError(args.isEmpty() ? "raise_exception called" : Py.str(args.get(0)));
    });
    g.put("namespace", (Callable) (args, kw) -> {
      Namespace ns = new Namespace();
      for (Object arg : args) if (arg instanceof Map<?, ?> m) m.forEach((k, v) -> ns.attributes.put(Py.str(k), v));
      ns.attributes.putAll(kw);
      return ns;
    });
    g.put("dict", (Callable) (args, kw) -> new LinkedHashMap<String, Object>(kw));
    g.put("range", (Callable) (args, kw) -> {
      long start = args.size() > 1 ? (Long) args.get(0) : 0;
      long stop = (Long) args.get(args.size() > 1 ? 1 : 0);
      long step = args.size() > 2 ? (Long) args.get(2) : 1;
      List<Object> out = new ArrayList<>();
      for (long i = start; step > 0 ? i < stop : i > stop; i += step) out.add(i);
      return out;
    });
    g.put("strftime_now", (Callable) (args, kw) -> strftime(Py.str(args.get(0)), ZonedDateTime.now()));
    return g;
  }

  /** {@code obj.name}: a method of the value's type, a dict's key, a namespace's attribute. */
  static Object attribute(Object target, String name) {
    Py.defined(target);
    if (target instanceof Namespace ns) {
      return ns.attributes.containsKey(name) ? ns.attributes.get(name) : new Undefined(name);
    }
    if (target instanceof Loop loop) return loop.attribute(name);
    Callable method = method(target, name);
    if (method != null) return method;
    if (target instanceof Map<?, ?> m && m.containsKey(name)) return m.get(name);
    return new Undefined(name);
  }

  private static Callable method(Object target, String name) {
    if (target instanceof String s) return stringMethod(s, name);
    if (target instanceof Map<?, ?> m) {
      return switch (name) {
        case "items" -> (args, kw) -> items(m);
        case "keys" -> (args, kw) -> new ArrayList<Object>(m.keySet());
        case "values" -> (args, kw) -> new ArrayList<Object>(m.values());
        case "get" -> (args, kw) -> m.containsKey(args.get(0)) ? m.get(args.get(0)) : args.size() > 1 ? args.get(1) : null;
        default -> null;
      };
    }
    if (target instanceof List<?> l) {
      return switch (name) {
        case "index" -> (args, kw) -> {
          for (int i = 0; i < l.size(); i++) if (Py.eq(l.get(i), args.get(0))) return (long) i;
          throw new TemplateError(Py.repr(args.get(0)) + " is not in list");
        };
        case "count" -> (args, kw) -> l.stream().filter(e -> Py.eq(e, args.get(0))).count();
        default -> null;
      };
    }
    return null;
  }

  private static Callable stringMethod(String s, String name) {
    return switch (name) {
      case "startswith" -> (args, kw) -> affix(args.get(0)).stream().anyMatch(s::startsWith);
      case "endswith" -> (args, kw) -> affix(args.get(0)).stream().anyMatch(s::endsWith);
      case "strip" -> (args, kw) -> strip(s, chars(args), true, true);
      case "lstrip" -> (args, kw) -> strip(s, chars(args), true, false);
      case "rstrip" -> (args, kw) -> strip(s, chars(args), false, true);
      case "split" -> (args, kw) -> split(s, args.isEmpty() ? null : (String) args.get(0), args.size() > 1 ? (Long) args.get(1) : -1);
      case "upper" -> (args, kw) -> s.toUpperCase(Locale.ROOT);
      case "lower" -> (args, kw) -> s.toLowerCase(Locale.ROOT);
      case "title" -> (args, kw) -> title(s);
      case "capitalize" -> (args, kw) -> capitalize(s);
      case "replace" -> (args, kw) -> replace(s, (String) args.get(0), (String) args.get(1), args.size() > 2 ? (Long) args.get(2) : -1);
      case "find" -> (args, kw) -> (long) s.indexOf((String) args.get(0));
      case "count" -> (args, kw) -> (long) split(s, (String) args.get(0), -1).size() - 1;
      case "join" -> (args, kw) -> String.join(s, Py.iterate(args.get(0)).stream().map(Py::str).toList());
      case "splitlines" -> (args, kw) -> new ArrayList<Object>(s.lines().toList());
      case "isdigit" -> (args, kw) -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
      case "isspace" -> (args, kw) -> !s.isEmpty() && s.chars().allMatch(Character::isWhitespace);
      default -> null;
    };
  }

  private static List<String> affix(Object arg) {
    return arg instanceof List<?> l ? l.stream().map(Py::str).toList() : List.of((String) arg);
  }

  private static String chars(List<Object> args) {
    return args.isEmpty() || args.get(0) == null ? null : (String) args.get(0);
  }

  /** Python's strip: the characters named, or whitespace when none are. */
  static String strip(String s, String chars, boolean left, boolean right) {
    int start = 0;
    int end = s.length();
    while (left && start < end && stripped(s.charAt(start), chars)) start++;
    while (right && end > start && stripped(s.charAt(end - 1), chars)) end--;
    return s.substring(start, end);
  }

  private static boolean stripped(char c, String chars) {
    return chars == null ? Character.isWhitespace(c) || Character.isSpaceChar(c) : chars.indexOf(c) >= 0;
  }

  static List<Object> split(String s, String sep, long maxSplit) {
    List<Object> out = new ArrayList<>();
    if (sep == null) {
      String rest = strip(s, null, true, false);
      while (!rest.isEmpty()) {
        if (maxSplit >= 0 && out.size() == maxSplit) {
          out.add(rest);
          return out;
        }
        int i = 0;
        while (i < rest.length() && !stripped(rest.charAt(i), null)) i++;
        out.add(rest.substring(0, i));
        rest = strip(rest.substring(i), null, true, false);
      }
      return out;
    }
    if (sep.isEmpty()) throw new TemplateError("empty separator");
    int from = 0;
    int at;
    while ((maxSplit < 0 || out.size() < maxSplit) && (at = s.indexOf(sep, from)) >= 0) {
      out.add(s.substring(from, at));
      from = at + sep.length();
    }
    out.add(s.substring(from));
    return out;
  }

  private static String replace(String s, String old, String replacement, long count) {
    if (count < 0) return s.replace(old, replacement);
    StringBuilder out = new StringBuilder();
    int from = 0;
    int at;
    for (long n = 0; n < count && (at = s.indexOf(old, from)) >= 0; n++) {
      out.append(s, from, at).append(replacement);
      from = at + old.length();
    }
    return out.append(s.substring(from)).toString();
  }

  private static String title(String s) {
    StringBuilder out = new StringBuilder();
    boolean previousCased = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      out.append(previousCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
      previousCased = Character.isLetter(c);
    }
    return out.toString();
  }

  private static String capitalize(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1).toLowerCase(Locale.ROOT);
  }

  private static List<Object> items(Map<?, ?> m) {
    List<Object> out = new ArrayList<>();
    m.forEach((k, v) -> out.add(Arrays.asList(k, v)));
    return out;
  }

  static Object filter(String name, Object value, List<Object> args, Map<String, Object> kw) {
    Object arg0 = args.isEmpty() ? null : args.get(0);
    switch (name) {
      case "length", "count": return Py.length(value);
      case "trim": return strip((String) Py.defined(value), (String) arg0, true, true);
      case "tojson": return PyJson.dumps(Py.defined(value), kw.getOrDefault("indent", arg0), Py.truthy(kw.get("sort_keys")));
      case "upper": return Py.str(value).toUpperCase(Locale.ROOT);
      case "lower": return Py.str(value).toLowerCase(Locale.ROOT);
      case "title": return title(Py.str(value));
      case "capitalize": return capitalize(Py.str(value));
      case "string": return Py.str(value);
      case "safe", "e", "escape": return value;
      case "default", "d": {
        boolean onFalsy = Py.truthy(args.size() > 1 ? args.get(1) : kw.get("boolean"));
        boolean useDefault = value instanceof Undefined || (onFalsy && !Py.truthy(value));
        return useDefault ? (args.isEmpty() ? "" : arg0) : value;
      }
      case "first": {
        List<Object> items = Py.iterate(Py.defined(value));
        return items.isEmpty() ? new Undefined("first") : items.get(0);
      }
      case "last": {
        List<Object> items = Py.iterate(Py.defined(value));
        return items.isEmpty() ? new Undefined("last") : items.get(items.size() - 1);
      }
      case "join": {
        Object attribute = kw.getOrDefault("attribute", args.size() > 1 ? args.get(1) : null);
        List<String> parts = new ArrayList<>();
        for (Object item : Py.iterate(value)) parts.add(Py.str(attribute == null ? item : Py.item(item, attribute)));
        return String.join(arg0 == null ? (String) kw.getOrDefault("d", "") : (String) arg0, parts);
      }
      case "list": return Py.iterate(value);
      case "reverse": {
        if (value instanceof String s) return new StringBuilder(s).reverse().toString();
        List<Object> items = Py.iterate(value);
        Collections.reverse(items);
        return items;
      }
      case "items": return value instanceof Undefined ? List.of() : items((Map<?, ?>) value);
      case "int": {
        if (value instanceof Double d) return (long) d.doubleValue();
        if (value instanceof Long) return value;
        try {
          return Long.parseLong(Py.str(value).strip());
        } catch (NumberFormatException e) {
          return arg0 == null ? 0L : arg0;
        }
      }
      case "float": {
        if (Py.isNumber(value)) return ((Number) (value instanceof Boolean b ? (b ? 1L : 0L) : value)).doubleValue();
        try {
          return Double.parseDouble(Py.str(value).strip());
        } catch (NumberFormatException e) {
          return arg0 == null ? 0.0 : arg0;
        }
      }
      case "abs": return value instanceof Double d ? Math.abs(d) : Math.abs((Long) value);
      case "round": {
        double d = ((Number) value).doubleValue();
        long digits = arg0 == null ? 0 : (Long) arg0;
        double scale = Math.pow(10, digits);
        return Math.rint(d * scale) / scale;
      }
      case "replace": return replace(Py.str(value), (String) arg0, (String) args.get(1), args.size() > 2 ? (Long) args.get(2) : -1);
      case "indent": {
        long width = arg0 == null ? (Long) kw.getOrDefault("width", 4L) : (Long) arg0;
        boolean first = Py.truthy(args.size() > 1 ? args.get(1) : kw.get("first"));
        String pad = " ".repeat((int) width);
        String text = Py.str(value);
        String indented = text.replace("\n", "\n" + pad);
        return first ? pad + indented : indented;
      }
      case "selectattr", "rejectattr": {
        boolean keep = name.equals("selectattr");
        List<Object> out = new ArrayList<>();
        for (Object item : Py.iterate(value)) {
          Object attr = Py.item(item, arg0);
          boolean pass = args.size() > 1
              ? test((String) args.get(1), attr, args.subList(2, args.size()))
              : Py.truthy(attr);
          if (pass == keep) out.add(item);
        }
        return out;
      }
      case "select", "reject": {
        boolean keep = name.equals("select");
        List<Object> out = new ArrayList<>();
        for (Object item : Py.iterate(value)) {
          boolean pass = arg0 == null ? Py.truthy(item) : test((String) arg0, item, args.subList(1, args.size()));
          if (pass == keep) out.add(item);
        }
        return out;
      }
      case "map": {
        List<Object> out = new ArrayList<>();
        for (Object item : Py.iterate(value)) {
          if (kw.containsKey("attribute")) {
            Object attr = Py.item(item, kw.get("attribute"));
            out.add(attr instanceof Undefined && kw.containsKey("default") ? kw.get("default") : attr);
          } else {
            out.add(filter((String) arg0, item, args.subList(1, args.size()), Map.of()));
          }
        }
        return out;
      }
      case "unique": {
        List<Object> out = new ArrayList<>();
        for (Object item : Py.iterate(value)) if (out.stream().noneMatch(o -> Py.eq(o, item))) out.add(item);
        return out;
      }
      case "sum": {
        Object total = 0L;
        for (Object item : Py.iterate(value)) total = Py.arithmetic("+", total, item);
        return total;
      }
      case "min", "max": {
        Object best = null;
        for (Object item : Py.iterate(value)) {
          if (best == null || Py.compare(item, best) == (name.equals("min") ? -1 : 1)) best = item;
        }
        return best == null ? new Undefined(name) : best;
      }
      default: throw new TemplateError("no filter named '" + name + "'");
    }
  }

  static boolean test(String name, Object value, List<Object> args) {
    Object arg0 = args.isEmpty() ? null : args.get(0);
    return switch (name) {
      case "defined" -> !(value instanceof Undefined);
      case "undefined" -> value instanceof Undefined;
      case "none" -> value == null;
      case "string" -> value instanceof String;
      case "number" -> value instanceof Long || value instanceof Double;
      case "integer" -> value instanceof Long;
      case "float" -> value instanceof Double;
      case "boolean" -> value instanceof Boolean;
      case "true" -> Boolean.TRUE.equals(value);
      case "false" -> Boolean.FALSE.equals(value);
      case "mapping" -> value instanceof Map;
      case "sequence" -> value instanceof List || value instanceof String || value instanceof Map;
      case "iterable" -> value instanceof List || value instanceof String || value instanceof Map;
      case "callable" -> value instanceof Callable;
      case "odd" -> Math.floorMod((Long) value, 2) == 1;
      case "even" -> Math.floorMod((Long) value, 2) == 0;
      case "divisibleby" -> Math.floorMod((Long) value, (Long) arg0) == 0;
      case "eq", "equalto", "==" -> Py.eq(value, arg0);
      case "ne", "!=" -> !Py.eq(value, arg0);
      case "lt", "lessthan", "<" -> Py.compare(value, arg0) < 0;
      case "le", "<=" -> Py.compare(value, arg0) <= 0;
      case "gt", "greaterthan", ">" -> Py.compare(value, arg0) > 0;
      case "ge", ">=" -> Py.compare(value, arg0) >= 0;
      case "in" -> Py.contains(arg0, value);
      case "sameas" -> value == arg0 || (value instanceof Boolean && value.equals(arg0));
      case "lower" -> value instanceof String s && s.equals(s.toLowerCase(Locale.ROOT));
      case "upper" -> value instanceof String s && s.equals(s.toUpperCase(Locale.ROOT));
      default -> throw new TemplateError("no test named '" + name + "'");
    };
  }

  /** The strftime directives chat templates use for "today's date" lines. */
  static String strftime(String format, ZonedDateTime time) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < format.length(); i++) {
      char c = format.charAt(i);
      if (c != '%' || i + 1 == format.length()) {
        out.append(c);
        continue;
      }
      char d = format.charAt(++i);
      String pattern = switch (d) {
        case 'd' -> "dd";
        case 'm' -> "MM";
        case 'Y' -> "yyyy";
        case 'y' -> "yy";
        case 'b' -> "MMM";
        case 'B' -> "MMMM";
        case 'a' -> "EEE";
        case 'A' -> "EEEE";
        case 'H' -> "HH";
        case 'M' -> "mm";
        case 'S' -> "ss";
        default -> null;
      };
      out.append(pattern == null ? (d == '%' ? "%" : "%" + d) : DateTimeFormatter.ofPattern(pattern, Locale.ENGLISH).format(time));
    }
    return out.toString();
  }
}
