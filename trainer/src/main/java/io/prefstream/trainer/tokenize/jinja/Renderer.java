package io.prefstream.trainer.tokenize.jinja;

import io.prefstream.trainer.tokenize.jinja.Node.Expr;
import io.prefstream.trainer.tokenize.jinja.Node.Stmt;
import io.prefstream.trainer.tokenize.jinja.Py.Callable;
import io.prefstream.trainer.tokenize.jinja.Py.Namespace;
import io.prefstream.trainer.tokenize.jinja.Py.Undefined;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs a syntax tree with Jinja's scoping: a for loop's body and a macro get their own scope, an if does not. */
final class Renderer {
  private enum Flow { NORMAL, BREAK, CONTINUE }

  /** One scope; a name not set here is looked up in the enclosing one. */
  private static final class Frame {
    final Map<String, Object> vars = new HashMap<>();
    final Frame parent;

    Frame(Frame parent) {
      this.parent = parent;
    }

    Object lookup(String name) {
      for (Frame f = this; f != null; f = f.parent) {
        if (f.vars.containsKey(name)) return f.vars.get(name);
      }
      return new Undefined(name);
    }
  }

  private Renderer() {}

  static String render(List<Stmt> body, Map<String, Object> context) {
    Frame globals = new Frame(null);
    globals.vars.putAll(Builtins.globals());
    globals.vars.putAll(context);
    StringBuilder out = new StringBuilder();
    new Renderer().run(body, new Frame(globals), out);
    return out.toString();
  }

  private Flow run(List<Stmt> body, Frame frame, StringBuilder out) {
    for (Stmt stmt : body) {
      Flow flow = exec(stmt, frame, out);
      if (flow != Flow.NORMAL) return flow;
    }
    return Flow.NORMAL;
  }

  private Flow exec(Stmt stmt, Frame frame, StringBuilder out) {
    if (stmt instanceof Node.Text t) {
      out.append(t.text());
    } else if (stmt instanceof Node.Output o) {
      out.append(Py.str(eval(o.value(), frame)));
    } else if (stmt instanceof Node.If i) {
      return run(Py.truthy(eval(i.test(), frame)) ? i.then() : i.otherwise(), frame, out);
    } else if (stmt instanceof Node.For f) {
      loop(f, frame, out);
    } else if (stmt instanceof Node.Set s) {
      assign(s, frame);
    } else if (stmt instanceof Node.SetBlock s) {
      StringBuilder captured = new StringBuilder();
      run(s.body(), frame, captured);
      frame.vars.put(s.target(), captured.toString());
    } else if (stmt instanceof Node.Macro m) {
      frame.vars.put(m.name(), macro(m, frame));
    } else if (stmt instanceof Node.Break) {
      return Flow.BREAK;
    } else if (stmt instanceof Node.Continue) {
      return Flow.CONTINUE;
    }
    return Flow.NORMAL;
  }

  private void loop(Node.For f, Frame frame, StringBuilder out) {
    Object iterable = eval(f.iterable(), frame);
    if (iterable == null) throw new TemplateError("'NoneType' object is not iterable");
    List<Object> items = new ArrayList<>();
    for (Object item : Py.iterate(iterable)) {
      if (f.filter() == null) {
        items.add(item);
        continue;
      }
      Frame probe = new Frame(frame);
      bind(f.targets(), item, probe);
      if (Py.truthy(eval(f.filter(), probe))) items.add(item);
    }
    if (items.isEmpty()) {
      run(f.otherwise(), frame, out);
      return;
    }
    Loop loop = new Loop(items);
    for (int i = 0; i < items.size(); i++) {
      loop.moveTo(i);
      Frame body = new Frame(frame);
      body.vars.put("loop", loop);
      bind(f.targets(), items.get(i), body);
      if (run(f.body(), body, out) == Flow.BREAK) break;
    }
  }

  private static void bind(List<String> targets, Object value, Frame frame) {
    if (targets.size() == 1) {
      frame.vars.put(targets.get(0), value);
      return;
    }
    List<Object> parts = Py.iterate(value);
    if (parts.size() != targets.size()) {
      throw new TemplateError("cannot unpack " + parts.size() + " values into " + targets.size() + " names");
    }
    for (int i = 0; i < targets.size(); i++) frame.vars.put(targets.get(i), parts.get(i));
  }

  private void assign(Node.Set s, Frame frame) {
    Object value = eval(s.value(), frame);
    if (s.attribute() == null) {
      bind(s.targets(), value, frame);
      return;
    }
    if (!(frame.lookup(s.targets().get(0)) instanceof Namespace ns)) {
      throw new TemplateError("cannot assign attribute on non-namespace object '" + s.targets().get(0) + "'");
    }
    ns.attributes.put(s.attribute(), value);
  }

  private Callable macro(Node.Macro m, Frame definedIn) {
    return (args, kw) -> {
      Frame scope = new Frame(definedIn);
      for (int i = 0; i < m.params().size(); i++) {
        String param = m.params().get(i);
        Object value;
        if (i < args.size()) value = args.get(i);
        else if (kw.containsKey(param)) value = kw.get(param);
        else if (m.defaults().get(i) != null) value = eval(m.defaults().get(i), definedIn);
        else value = new Undefined(param);
        scope.vars.put(param, value);
      }
      StringBuilder out = new StringBuilder();
      run(m.body(), scope, out);
      return out.toString();
    };
  }

  private Object eval(Expr e, Frame frame) {
    if (e instanceof Node.Literal l) return l.value();
    if (e instanceof Node.Name n) return frame.lookup(n.name());
    if (e instanceof Node.ListExpr l) {
      List<Object> items = new ArrayList<>();
      for (Expr item : l.items()) items.add(eval(item, frame));
      return items;
    }
    if (e instanceof Node.DictExpr d) {
      Map<Object, Object> map = new LinkedHashMap<>();
      for (int i = 0; i < d.keys().size(); i++) map.put(eval(d.keys().get(i), frame), eval(d.values().get(i), frame));
      return map;
    }
    if (e instanceof Node.Attribute a) return Builtins.attribute(eval(a.target(), frame), a.name());
    if (e instanceof Node.Item i) return Py.item(eval(i.target(), frame), eval(i.key(), frame));
    if (e instanceof Node.Slice s) {
      return Py.slice(eval(s.target(), frame), optional(s.start(), frame), optional(s.stop(), frame), optional(s.step(), frame));
    }
    if (e instanceof Node.Call c) {
      Object callee = eval(c.callee(), frame);
      if (callee instanceof Undefined u) throw u.error();
      if (!(callee instanceof Callable f)) throw new TemplateError("'" + Py.typeName(callee) + "' object is not callable");
      return f.call(values(c.args(), frame), keywords(c.kwNames(), c.kwValues(), frame));
    }
    if (e instanceof Node.Filter f) {
      try {
        return Builtins.filter(f.name(), eval(f.target(), frame), values(f.args(), frame), keywords(f.kwNames(), f.kwValues(), frame));
      } catch (ClassCastException | IndexOutOfBoundsException ex) {
        throw new TemplateError("line " + f.line() + ": bad arguments to filter '" + f.name() + "'");
      }
    }
    if (e instanceof Node.Test t) {
      try {
        return t.negated() != Builtins.test(t.name(), eval(t.target(), frame), values(t.args(), frame));
      } catch (ClassCastException | IndexOutOfBoundsException ex) {
        throw new TemplateError("line " + t.line() + ": bad arguments to test '" + t.name() + "'");
      }
    }
    if (e instanceof Node.Unary u) {
      Object v = eval(u.operand(), frame);
      return switch (u.op()) {
        case "not" -> !Py.truthy(v);
        case "-" -> Py.negate(v);
        default -> Py.defined(v);
      };
    }
    if (e instanceof Node.Binary b) return binary(b, frame);
    Node.Conditional c = (Node.Conditional) e;
    if (Py.truthy(eval(c.test(), frame))) return eval(c.then(), frame);
    return c.otherwise() == null ? new Undefined("else") : eval(c.otherwise(), frame);
  }

  private Object binary(Node.Binary b, Frame frame) {
    Object left = eval(b.left(), frame);
    switch (b.op()) {
      case "and": return Py.truthy(left) ? eval(b.right(), frame) : left;
      case "or": return Py.truthy(left) ? left : eval(b.right(), frame);
      default: break;
    }
    Object right = eval(b.right(), frame);
    return switch (b.op()) {
      case "==" -> Py.eq(left, right);
      case "!=" -> !Py.eq(left, right);
      case "<" -> Py.compare(Py.defined(left), Py.defined(right)) < 0;
      case "<=" -> Py.compare(Py.defined(left), Py.defined(right)) <= 0;
      case ">" -> Py.compare(Py.defined(left), Py.defined(right)) > 0;
      case ">=" -> Py.compare(Py.defined(left), Py.defined(right)) >= 0;
      case "in" -> Py.contains(right, left);
      case "not in" -> !Py.contains(right, left);
      case "~" -> Py.str(left) + Py.str(right);
      default -> Py.arithmetic(b.op(), left, right);
    };
  }

  private Object optional(Expr e, Frame frame) {
    return e == null ? null : eval(e, frame);
  }

  private List<Object> values(List<Expr> exprs, Frame frame) {
    List<Object> out = new ArrayList<>();
    for (Expr e : exprs) out.add(eval(e, frame));
    return out;
  }

  private Map<String, Object> keywords(List<String> names, List<Expr> exprs, Frame frame) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) out.put(names.get(i), eval(exprs.get(i), frame));
    return out;
  }
}
