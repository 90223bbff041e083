package io.prefstream.trainer.tokenize.jinja;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Python's value semantics, as templates rely on them: truthiness, {@code str}, equality, ordering,
 * arithmetic, indexing and slicing. Values are {@code null} (None), Boolean, Long (int), Double
 * (float), String, List, Map, {@link Undefined}, {@link Namespace} and {@link Callable}.
 */
final class Py {
  private Py() {}

  /** A name or key that does not exist: empty, falsy, and an error when used as a value. */
  record Undefined(String name) {
    TemplateError error() {
      return new TemplateError("'" + name + "' is undefined");
    }
  }

  /** Jinja's {@code namespace()}: attributes that {@code set ns.x = ...} may change from inside loops. */
  static final class Namespace {
    final Map<String, Object> attributes = new LinkedHashMap<>();
  }

  @FunctionalInterface
  interface Callable {
    Object call(List<Object> args, Map<String, Object> kwargs);
  }

  static boolean truthy(Object v) {
    if (v == null || v instanceof Undefined) return false;
    if (v instanceof Boolean b) return b;
    if (v instanceof Long l) return l != 0;
    if (v instanceof Double d) return d != 0;
    if (v instanceof String s) return !s.isEmpty();
    if (v instanceof List<?> l) return !l.isEmpty();
    if (v instanceof Map<?, ?> m) return !m.isEmpty();
    return true;
  }

  static String str(Object v) {
    if (v instanceof String s) return s;
    if (v instanceof Undefined) return "";
    return repr(v);
  }

  static String repr(Object v) {
    if (v == null) return "None";
    if (v instanceof Boolean b) return b ? "True" : "False";
    if (v instanceof Long l) return l.toString();
    if (v instanceof Double d) return floatRepr(d);
    if (v instanceof String s) return stringRepr(s);
    if (v instanceof List<?> l) {
      StringBuilder b = new StringBuilder("[");
      for (int i = 0; i < l.size(); i++) b.append(i > 0 ? ", " : "").append(repr(l.get(i)));
      return b.append(']').toString();
    }
    if (v instanceof Map<?, ?> m) {
      StringBuilder b = new StringBuilder("{");
      int i = 0;
      for (Map.Entry<?, ?> e : m.entrySet()) b.append(i++ > 0 ? ", " : "").append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
      return b.append('}').toString();
    }
    if (v instanceof Namespace n) return "<Namespace " + repr(n.attributes) + ">";
    if (v instanceof Undefined) return "";
    return v.toString();
  }

  static String floatRepr(double d) {
    if (Double.isNaN(d)) return "nan";
    if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
    if (d == Math.rint(d) && Math.abs(d) < 1e16) return new BigDecimal(d).toPlainString() + ".0";
    String s = Double.toString(d);
    int e = s.indexOf('E');
    if (e < 0) return s;
    int exponent = Integer.parseInt(s.substring(e + 1));
    String mantissa = s.substring(0, e).replaceAll("\\.0$", "");
    if (exponent >= -4 && exponent < 16) return new BigDecimal(s).toPlainString();
    return mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
  }

  private static String stringRepr(String s) {
    char quote = s.contains("'") && !s.contains("\"") ? '"' : '\'';
    StringBuilder b = new StringBuilder().append(quote);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c == quote) b.append('\\').append(c);
          else if (c < 0x20 || c == 0x7f) b.append(String.format("\\x%02x", (int) c));
          else b.append(c);
        }
      }
    }
    return b.append(quote).toString();
  }

  static String typeName(Object v) {
    if (v == null) return "NoneType";
    if (v instanceof Boolean) return "bool";
    if (v instanceof Long) return "int";
    if (v instanceof Double) return "float";
    if (v instanceof String) return "str";
    if (v instanceof List) return "list";
    if (v instanceof Map) return "dict";
    if (v instanceof Undefined) return "Undefined";
    if (v instanceof Namespace) return "Namespace";
    return "function";
  }

  static boolean isNumber(Object v) {
    return v instanceof Long || v instanceof Double || v instanceof Boolean;
  }

  private static double asDouble(Object v) {
    return v instanceof Boolean b ? (b ? 1 : 0) : ((Number) v).doubleValue();
  }

  private static long asLong(Object v) {
    return v instanceof Boolean b ? (b ? 1 : 0) : (Long) v;
  }

  private static boolean integral(Object a, Object b) {
    return !(a instanceof Double) && !(b instanceof Double);
  }

  static boolean eq(Object a, Object b) {
    if (isNumber(a) && isNumber(b)) return integral(a, b) ? asLong(a) == asLong(b) : asDouble(a) == asDouble(b);
    if (a instanceof List<?> x && b instanceof List<?> y) {
      if (x.size() != y.size()) return false;
      for (int i = 0; i < x.size(); i++) if (!eq(x.get(i), y.get(i))) return false;
      return true;
    }
    if (a instanceof Undefined || b instanceof Undefined) return a instanceof Undefined && b instanceof Undefined;
    return Objects.equals(a, b);
  }

  static int compare(Object a, Object b) {
    if (isNumber(a) && isNumber(b)) return integral(a, b) ? Long.compare(asLong(a), asLong(b)) : Double.compare(asDouble(a), asDouble(b));
    if (a instanceof String x && b instanceof String y) return Integer.signum(x.compareTo(y));
    if (a instanceof List<?> x && b instanceof List<?> y) {
      for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
        if (!eq(x.get(i), y.get(i))) return compare(x.get(i), y.get(i));
      }
      return Integer.compare(x.size(), y.size());
    }
    throw new TemplateError("cannot compare " + typeName(a) + " with " + typeName(b));
  }

  static Object arithmetic(String op, Object a, Object b) {
    defined(a);
    defined(b);
    if (op.equals("+")) {
      if (a instanceof String x && b instanceof String y) return x + y;
      if (a instanceof List<?> x && b instanceof List<?> y) {
        List<Object> joined = new ArrayList<>(x);
        joined.addAll(y);
        return joined;
      }
    }
    if (op.equals("*")) {
      if (a instanceof String s && b instanceof Long n) return s.repeat((int) Math.max(0, n));
      if (a instanceof Long n && b instanceof String s) return s.repeat((int) Math.max(0, n));
      if (a instanceof List<?> l && b instanceof Long n) {
        List<Object> out = new ArrayList<>();
        for (long i = 0; i < n; i++) out.addAll(l);
        return out;
      }
    }
    if (!isNumber(a) || !isNumber(b)) {
      throw new TemplateError("unsupported operand type(s) for " + op + ": '" + typeName(a) + "' and '" + typeName(b) + "'");
    }
    boolean ints = integral(a, b);
    switch (op) {
      case "+": return ints ? (Object) (asLong(a) + asLong(b)) : asDouble(a) + asDouble(b);
      case "-": return ints ? (Object) (asLong(a) - asLong(b)) : asDouble(a) - asDouble(b);
      case "*": return ints ? (Object) (asLong(a) * asLong(b)) : asDouble(a) * asDouble(b);
      case "/": {
        if (asDouble(b) == 0) throw new TemplateError("division by zero");
        return asDouble(a) / asDouble(b);
      }
      case "//": {
        if (asDouble(b) == 0) throw new TemplateError("integer division or modulo by zero");
        return ints ? (Object) Math.floorDiv(asLong(a), asLong(b)) : Math.floor(asDouble(a) / asDouble(b));
      }
      case "%": {
        if (asDouble(b) == 0) throw new TemplateError("integer division or modulo by zero");
        if (ints) return Math.floorMod(asLong(a), asLong(b));
        double m = asDouble(a) % asDouble(b);
        return m != 0 && (m < 0) != (asDouble(b) < 0) ? m + asDouble(b) : m;
      }
      case "**": {
        if (ints && asLong(b) >= 0) return (long) Math.pow(asLong(a), asLong(b));
        return Math.pow(asDouble(a), asDouble(b));
      }
      default: throw new TemplateError("unknown operator " + op);
    }
  }

  static Object negate(Object v) {
    defined(v);
    if (v instanceof Double d) return -d;
    if (isNumber(v)) return -asLong(v);
    throw new TemplateError("bad operand type for unary -: '" + typeName(v) + "'");
  }

  static boolean contains(Object container, Object item) {
    defined(container);
    if (container instanceof String s) {
      if (!(item instanceof String x)) throw new TemplateError("'in <string>' requires string as left operand, not " + typeName(item));
      return s.contains(x);
    }
    if (container instanceof List<?> l) return l.stream().anyMatch(e -> eq(e, item));
    if (container instanceof Map<?, ?> m) return m.containsKey(item);
    throw new TemplateError("argument of type '" + typeName(container) + "' is not iterable");
  }

  static Object defined(Object v) {
    if (v instanceof Undefined u) throw u.error();
    return v;
  }

  static long length(Object v) {
    if (v instanceof String s) return s.codePointCount(0, s.length());
    if (v instanceof List<?> l) return l.size();
    if (v instanceof Map<?, ?> m) return m.size();
    if (v instanceof Undefined) return 0;
    throw new TemplateError("object of type '" + typeName(v) + "' has no len()");
  }

  static List<Object> iterate(Object v) {
    if (v instanceof Undefined) return List.of();
    if (v instanceof List<?> l) return new ArrayList<>(l);
    if (v instanceof Map<?, ?> m) return new ArrayList<>(m.keySet());
    if (v instanceof String s) return new ArrayList<>(s.codePoints().mapToObj(Character::toString).toList());
    throw new TemplateError("'" + typeName(v) + "' object is not iterable");
  }

  /** {@code target[key]}: a key of a dict (else an attribute), an index of a list or string. */
  static Object item(Object target, Object key) {
    defined(target);
    if (target instanceof Map<?, ?> m) {
      if (m.containsKey(key)) return m.get(key);
      return key instanceof String name ? Builtins.attribute(target, name) : new Undefined(repr(key));
    }
    if ((target instanceof List || target instanceof String) && key instanceof Long index) {
      List<Object> items = target instanceof List<?> l ? new ArrayList<>(l) : iterate(target);
      long i = index < 0 ? items.size() + index : index;
      return i >= 0 && i < items.size() ? items.get((int) i) : new Undefined(typeName(target) + "[" + index + "]");
    }
    if (key instanceof String name) return Builtins.attribute(target, name);
    return new Undefined(typeName(target) + "[" + repr(key) + "]");
  }

  /** Python's {@code seq[start:stop:step]} on lists and strings. */
  static Object slice(Object target, Object start, Object stop, Object step) {
    defined(target);
    List<Object> items = iterate(target);
    int n = items.size();
    long by = step == null ? 1 : (Long) step;
    if (by == 0) throw new TemplateError("slice step cannot be zero");
    long from;
    long to;
    if (by > 0) {
      from = start == null ? 0 : clamp((Long) start, n, 0, n);
      to = stop == null ? n : clamp((Long) stop, n, 0, n);
    } else {
      from = start == null ? n - 1 : clamp((Long) start, n, -1, n - 1);
      to = stop == null ? -1 : clamp((Long) stop, n, -1, n - 1);
    }
    List<Object> out = new ArrayList<>();
    for (long i = from; by > 0 ? i < to : i > to; i += by) out.add(items.get((int) i));
    if (target instanceof String) {
      StringBuilder b = new StringBuilder();
      out.forEach(c -> b.append((String) c));
      return b.toString();
    }
    return out;
  }

  private static long clamp(long index, int n, long low, long high) {
    long i = index < 0 ? index + n : index;
    return Math.max(low, Math.min(high, i));
  }
}
