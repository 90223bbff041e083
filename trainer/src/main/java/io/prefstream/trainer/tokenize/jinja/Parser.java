package io.prefstream.trainer.tokenize.jinja;

import io.prefstream.trainer.tokenize.jinja.Node.Expr;
import io.prefstream.trainer.tokenize.jinja.Node.Stmt;
import io.prefstream.trainer.tokenize.jinja.Token.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Builds the syntax tree, with Jinja's operator precedence (filters and tests bind tightest). */
final class Parser {
  private static final Set<String> NOT_A_TEST_ARGUMENT = Set.of("else", "or", "and", "if", "in", "not", "is");

  private final List<Token> tokens;
  private int pos;

  private Parser(List<Token> tokens) {
    this.tokens = tokens;
  }

  static List<Stmt> parse(String template) {
    Parser parser = new Parser(Lexer.tokenize(template));
    List<Stmt> body = parser.statements(Set.of());
    if (parser.peek().kind() != Kind.EOF) throw parser.error("unexpected '" + parser.peek().text() + "'");
    return body;
  }

  /** Statements up to a block tag named in {@code ends}; stops with that name as the next token. */
  private List<Stmt> statements(Set<String> ends) {
    List<Stmt> body = new ArrayList<>();
    while (true) {
      Token t = peek();
      switch (t.kind()) {
        case EOF -> {
          if (!ends.isEmpty()) throw error("missing {% " + String.join(" / ", ends) + " %}");
          return body;
        }
        case TEXT -> {
          pos++;
          body.add(new Node.Text(t.text()));
        }
        case VAR_BEGIN -> {
          pos++;
          body.add(new Node.Output(expression()));
          expect(Kind.VAR_END, "}}");
        }
        case BLOCK_BEGIN -> {
          Token keyword = tokens.get(pos + 1);
          if (ends.contains(keyword.text())) {
            pos++;
            return body;
          }
          pos += 2;
          body.add(statement(keyword));
        }
        default -> throw error("unexpected '" + t.text() + "'");
      }
    }
  }

  private Stmt statement(Token keyword) {
    if (keyword.kind() != Kind.NAME) throw error("expected a statement name, got '" + keyword.text() + "'");
    switch (keyword.text()) {
      case "if": return ifStatement();
      case "for": return forStatement();
      case "set": return setStatement();
      case "macro": return macro();
      case "break": endTag(); return new Node.Break();
      case "continue": endTag(); return new Node.Continue();
      case "generation": {
        // transformers' {% generation %} marks assistant text for masks; it renders its body as is
        endTag();
        List<Stmt> body = statements(Set.of("endgeneration"));
        pos++;
        endTag();
        return new Node.If(new Node.Literal(true), body, List.of());
      }
      default: throw error("unknown statement '" + keyword.text() + "'");
    }
  }

  private Stmt ifStatement() {
    Expr test = expression();
    endTag();
    List<Stmt> then = statements(Set.of("elif", "else", "endif"));
    String end = next().text();
    List<Stmt> otherwise = List.of();
    if (end.equals("elif")) {
      otherwise = List.of(ifStatement());
      return new Node.If(test, then, otherwise);
    }
    endTag();
    if (end.equals("else")) {
      otherwise = statements(Set.of("endif"));
      pos++;
      endTag();
    }
    return new Node.If(test, then, otherwise);
  }

  private Stmt forStatement() {
    List<String> targets = new ArrayList<>();
    do {
      targets.add(name());
    } while (acceptOp(","));
    if (!next().isName("in")) throw error("expected 'in' in for");
    Expr iterable = or();
    Expr filter = null;
    if (peek().isName("if")) {
      pos++;
      filter = expression();
    }
    endTag();
    List<Stmt> body = statements(Set.of("else", "endfor"));
    List<Stmt> otherwise = List.of();
    if (next().text().equals("else")) {
      endTag();
      otherwise = statements(Set.of("endfor"));
      pos++;
    }
    endTag();
    return new Node.For(targets, iterable, filter, body, otherwise);
  }

  private Stmt setStatement() {
    List<String> targets = new ArrayList<>();
    targets.add(name());
    String attribute = null;
    if (acceptOp(".")) {
      attribute = name();
    } else {
      while (acceptOp(",")) targets.add(name());
    }
    if (peek().kind() == Kind.BLOCK_END && attribute == null && targets.size() == 1) {
      endTag();
      List<Stmt> body = statements(Set.of("endset"));
      pos++;
      endTag();
      return new Node.SetBlock(targets.get(0), body);
    }
    expectOp("=");
    Expr value = tupleOrExpression();
    endTag();
    return new Node.Set(targets, attribute, value);
  }

  private Stmt macro() {
    String name = name();
    List<String> params = new ArrayList<>();
    List<Expr> defaults = new ArrayList<>();
    expectOp("(");
    while (!acceptOp(")")) {
      params.add(name());
      defaults.add(acceptOp("=") ? expression() : null);
      if (!peek().isOp(")")) expectOp(",");
    }
    endTag();
    List<Stmt> body = statements(Set.of("endmacro"));
    pos++;
    endTag();
    return new Node.Macro(name, params, defaults, body);
  }

  private Expr tupleOrExpression() {
    Expr first = expression();
    if (!peek().isOp(",")) return first;
    List<Expr> items = new ArrayList<>(List.of(first));
    while (acceptOp(",")) {
      if (peek().kind() == Kind.BLOCK_END || peek().isOp(")")) break;
      items.add(expression());
    }
    return new Node.ListExpr(items);
  }

  Expr expression() {
    Expr value = or();
    while (peek().isName("if")) {
      pos++;
      Expr test = or();
      Expr otherwise = null;
      if (peek().isName("else")) {
        pos++;
        otherwise = expression();
      }
      value = new Node.Conditional(test, value, otherwise);
    }
    return value;
  }

  private Expr or() {
    Expr left = and();
    while (peek().isName("or")) {
      pos++;
      left = new Node.Binary("or", left, and());
    }
    return left;
  }

  private Expr and() {
    Expr left = not();
    while (peek().isName("and")) {
      pos++;
      left = new Node.Binary("and", left, not());
    }
    return left;
  }

  private Expr not() {
    if (peek().isName("not")) {
      pos++;
      return new Node.Unary("not", not());
    }
    return compare();
  }

  private Expr compare() {
    Expr left = math1();
    while (true) {
      Token t = peek();
      if (t.kind() == Kind.OP && Set.of("==", "!=", "<", ">", "<=", ">=").contains(t.text())) {
        pos++;
        left = new Node.Binary(t.text(), left, math1());
      } else if (t.isName("in")) {
        pos++;
        left = new Node.Binary("in", left, math1());
      } else if (t.isName("not") && tokens.get(pos + 1).isName("in")) {
        pos += 2;
        left = new Node.Binary("not in", left, math1());
      } else {
        return left;
      }
    }
  }

  private Expr math1() {
    Expr left = concat();
    while (peek().isOp("+") || peek().isOp("-")) {
      String op = next().text();
      left = new Node.Binary(op, left, concat());
    }
    return left;
  }

  private Expr concat() {
    Expr left = math2();
    while (acceptOp("~")) left = new Node.Binary("~", left, math2());
    return left;
  }

  private Expr math2() {
    Expr left = pow();
    while (peek().isOp("*") || peek().isOp("/") || peek().isOp("//") || peek().isOp("%")) {
      String op = next().text();
      left = new Node.Binary(op, left, pow());
    }
    return left;
  }

  private Expr pow() {
    Expr left = unary(true);
    while (acceptOp("**")) left = new Node.Binary("**", left, unary(true));
    return left;
  }

  private Expr unary(boolean withFilters) {
    Expr value;
    if (peek().isOp("-") || peek().isOp("+")) {
      String op = next().text();
      value = new Node.Unary(op, unary(false));
    } else {
      value = primary();
    }
    value = postfix(value);
    return withFilters ? filtersAndTests(value) : value;
  }

  private Expr primary() {
    Token t = next();
    switch (t.kind()) {
      case NAME:
        return switch (t.text()) {
          case "true", "True" -> new Node.Literal(true);
          case "false", "False" -> new Node.Literal(false);
          case "none", "None" -> new Node.Literal(null);
          default -> new Node.Name(t.text(), t.line());
        };
      case STRING: {
        StringBuilder s = new StringBuilder(t.text());
        while (peek().kind() == Kind.STRING) s.append(next().text());
        return new Node.Literal(s.toString());
      }
      case INT:
        return new Node.Literal(Long.parseLong(t.text()));
      case FLOAT:
        return new Node.Literal(Double.parseDouble(t.text()));
      case OP:
        if (t.text().equals("(")) {
          if (acceptOp(")")) return new Node.ListExpr(List.of());
          Expr first = expression();
          if (acceptOp(")")) return first;
          List<Expr> items = new ArrayList<>(List.of(first));
          while (acceptOp(",") && !peek().isOp(")")) items.add(expression());
          expectOp(")");
          return new Node.ListExpr(items);
        }
        if (t.text().equals("[")) {
          List<Expr> items = new ArrayList<>();
          while (!acceptOp("]")) {
            items.add(expression());
            if (!peek().isOp("]")) expectOp(",");
          }
          return new Node.ListExpr(items);
        }
        if (t.text().equals("{")) {
          List<Expr> keys = new ArrayList<>();
          List<Expr> values = new ArrayList<>();
          while (!acceptOp("}")) {
            keys.add(expression());
            expectOp(":");
            values.add(expression());
            if (!peek().isOp("}")) expectOp(",");
          }
          return new Node.DictExpr(keys, values);
        }
        // fall through
      default:
        pos--;
        throw error("unexpected '" + t.text() + "'");
    }
  }

  private Expr postfix(Expr value) {
    while (true) {
      if (acceptOp(".")) {
        Token t = next();
        if (t.kind() == Kind.NAME) {
          value = new Node.Attribute(value, t.text());
        } else if (t.kind() == Kind.INT) {
          value = new Node.Item(value, new Node.Literal(Long.parseLong(t.text())));
        } else {
          throw error("expected an attribute name after '.'");
        }
      } else if (acceptOp("[")) {
        value = subscript(value);
      } else if (peek().isOp("(")) {
        value = call(value);
      } else {
        return value;
      }
    }
  }

  private Expr subscript(Expr target) {
    Expr[] parts = new Expr[3];
    int part = 0;
    boolean slice = false;
    while (!acceptOp("]")) {
      if (acceptOp(":")) {
        slice = true;
        if (++part > 2) throw error("a slice has at most three parts");
      } else {
        parts[part] = expression();
      }
    }
    return slice ? new Node.Slice(target, parts[0], parts[1], parts[2]) : new Node.Item(target, parts[0]);
  }

  private Node.Call call(Expr callee) {
    List<Expr> args = new ArrayList<>();
    List<String> kwNames = new ArrayList<>();
    List<Expr> kwValues = new ArrayList<>();
    arguments(args, kwNames, kwValues);
    return new Node.Call(callee, args, kwNames, kwValues);
  }

  private void arguments(List<Expr> args, List<String> kwNames, List<Expr> kwValues) {
    expectOp("(");
    while (!acceptOp(")")) {
      if (peek().kind() == Kind.NAME && tokens.get(pos + 1).isOp("=")) {
        kwNames.add(next().text());
        pos++;
        kwValues.add(expression());
      } else {
        args.add(expression());
      }
      if (!peek().isOp(")")) expectOp(",");
    }
  }

  private Expr filtersAndTests(Expr value) {
    while (true) {
      if (acceptOp("|")) {
        Token name = peek();
        String filter = name();
        List<Expr> args = new ArrayList<>();
        List<String> kwNames = new ArrayList<>();
        List<Expr> kwValues = new ArrayList<>();
        if (peek().isOp("(")) arguments(args, kwNames, kwValues);
        value = new Node.Filter(value, filter, args, kwNames, kwValues, name.line());
      } else if (peek().isName("is")) {
        pos++;
        boolean negated = false;
        if (peek().isName("not")) {
          pos++;
          negated = true;
        }
        Token name = next();
        if (name.kind() != Kind.NAME) throw error("expected a test name after 'is'");
        List<Expr> args = new ArrayList<>();
        Token t = peek();
        if (t.isOp("(")) {
          List<String> kwNames = new ArrayList<>();
          arguments(args, kwNames, new ArrayList<>());
        } else if (t.kind() == Kind.STRING || t.kind() == Kind.INT || t.kind() == Kind.FLOAT
            || t.isOp("[") || t.isOp("{") || (t.kind() == Kind.NAME && !NOT_A_TEST_ARGUMENT.contains(t.text()))) {
          args.add(postfix(primary()));
        }
        value = new Node.Test(value, name.text(), args, negated, name.line());
      } else if (peek().isOp("(")) {
        value = call(value);
      } else {
        return value;
      }
    }
  }

  private String name() {
    Token t = next();
    if (t.kind() != Kind.NAME) {
      pos--;
      throw error("expected a name, got '" + t.text() + "'");
    }
    return t.text();
  }

  private void endTag() {
    expect(Kind.BLOCK_END, "%}");
  }

  private void expect(Kind kind, String text) {
    if (peek().kind() != kind) throw error("expected '" + text + "', got '" + peek().text() + "'");
    pos++;
  }

  private void expectOp(String op) {
    if (!acceptOp(op)) throw error("expected '" + op + "', got '" + peek().text() + "'");
  }

  private boolean acceptOp(String op) {
    if (!peek().isOp(op)) return false;
    pos++;
    return true;
  }

  private Token peek() {
    return tokens.get(pos);
  }

  private Token next() {
    return tokens.get(pos++);
  }

  private TemplateError error(String message) {
    return new TemplateError("line " + peek().line() + ": " + message);
  }
}
