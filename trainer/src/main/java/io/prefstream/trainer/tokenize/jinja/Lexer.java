package io.prefstream.trainer.tokenize.jinja;

import io.prefstream.trainer.tokenize.jinja.Token.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a template into text and tag tokens with the whitespace rules Hugging Face renders chat
 * templates with ({@code trim_blocks} and {@code lstrip_blocks} on, {@code keep_trailing_newline}
 * off): {@code -} strips all whitespace on its side, {@code +} turns the block rules off, the newline
 * after a block or comment tag is dropped, and the indentation before one is removed.
 */
final class Lexer {
  private static final String[] OPERATORS = {
    "//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]",
    "{", "}", ",", ".", ":", "|"
  };

  private final String src;
  private final List<Token> out = new ArrayList<>();
  private int pos;
  private int line = 1;
  private boolean lineStarting = true;

  private Lexer(String src) {
    this.src = src;
  }

  static List<Token> tokenize(String template) {
    String normalized = template.replace("\r\n", "\n").replace('\r', '\n');
    if (normalized.endsWith("\n")) normalized = normalized.substring(0, normalized.length() - 1);
    Lexer lexer = new Lexer(normalized);
    lexer.run();
    return lexer.out;
  }

  private void run() {
    while (pos < src.length()) {
      int start = nextTag(pos);
      if (start < 0) {
        text(src.substring(pos));
        break;
      }
      char kind = src.charAt(start + 1);
      char modifier = start + 2 < src.length() ? src.charAt(start + 2) : ' ';
      String data = src.substring(pos, start);
      if (modifier == '-') {
        data = data.stripTrailing();
      } else if (kind != '{' && modifier != '+') {
        int lineStart = data.lastIndexOf('\n') + 1;
        if ((lineStart > 0 || lineStarting) && data.substring(lineStart).isBlank()) data = data.substring(0, lineStart);
      }
      text(data);
      line += count(src, pos, start);
      pos = start + 2 + (modifier == '-' || modifier == '+' ? 1 : 0);
      if (kind == '#') {
        comment();
      } else {
        tag(kind);
      }
    }
    out.add(new Token(Kind.EOF, "", line));
  }

  private int nextTag(int from) {
    int i = src.indexOf('{', from);
    while (i >= 0 && i + 1 < src.length()) {
      char c = src.charAt(i + 1);
      if (c == '{' || c == '%' || c == '#') return i;
      i = src.indexOf('{', i + 1);
    }
    return -1;
  }

  private void text(String data) {
    if (!data.isEmpty()) out.add(new Token(Kind.TEXT, data, line));
  }

  private void comment() {
    int end = src.indexOf("#}", pos);
    if (end < 0) throw new TemplateError("line " + line + ": unclosed comment");
    boolean strip = end > pos && src.charAt(end - 1) == '-';
    boolean keep = end > pos && src.charAt(end - 1) == '+';
    line += count(src, pos, end);
    pos = end + 2;
    afterTag(strip, !keep);
  }

  private void tag(char kind) {
    String close = kind == '{' ? "}}" : "%}";
    out.add(new Token(kind == '{' ? Kind.VAR_BEGIN : Kind.BLOCK_BEGIN, kind == '{' ? "{{" : "{%", line));
    int depth = 0;
    while (true) {
      skipSpaces();
      if (pos >= src.length()) throw new TemplateError("line " + line + ": unclosed tag, expected " + close);
      if (depth == 0) {
        for (String modifier : new String[] {"-", "+", ""}) {
          if (src.startsWith(modifier + close, pos)) {
            pos += modifier.length() + 2;
            out.add(new Token(kind == '{' ? Kind.VAR_END : Kind.BLOCK_END, close, line));
            afterTag(modifier.equals("-"), kind == '%' && !modifier.equals("+"));
            return;
          }
        }
      }
      char c = src.charAt(pos);
      if (Character.isLetter(c) || c == '_') {
        int start = pos;
        while (pos < src.length() && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) pos++;
        out.add(new Token(Kind.NAME, src.substring(start, pos), line));
      } else if (Character.isDigit(c)) {
        number();
      } else if (c == '\'' || c == '"') {
        string(c);
      } else {
        String op = operator();
        if (op.equals("(") || op.equals("[") || op.equals("{")) depth++;
        if (op.equals(")") || op.equals("]") || op.equals("}")) depth--;
        out.add(new Token(Kind.OP, op, line));
      }
    }
  }

  /** After a tag: {@code -} eats all whitespace; else a block's newline goes (trim_blocks). */
  private void afterTag(boolean stripAll, boolean trimNewline) {
    int start = pos;
    if (stripAll) {
      while (pos < src.length() && Character.isWhitespace(src.charAt(pos))) pos++;
    } else if (trimNewline && pos < src.length() && src.charAt(pos) == '\n') {
      pos++;
    }
    line += count(src, start, pos);
    lineStarting = pos > start ? src.charAt(pos - 1) == '\n' : false;
  }

  private void skipSpaces() {
    while (pos < src.length() && Character.isWhitespace(src.charAt(pos))) {
      if (src.charAt(pos) == '\n') line++;
      pos++;
    }
  }

  private void number() {
    int start = pos;
    boolean isFloat = false;
    while (pos < src.length() && (Character.isDigit(src.charAt(pos)) || src.charAt(pos) == '_')) pos++;
    if (pos + 1 < src.length() && src.charAt(pos) == '.' && Character.isDigit(src.charAt(pos + 1))) {
      isFloat = true;
      pos++;
      while (pos < src.length() && Character.isDigit(src.charAt(pos))) pos++;
    }
    if (pos < src.length() && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
      int mark = pos++;
      if (pos < src.length() && (src.charAt(pos) == '+' || src.charAt(pos) == '-')) pos++;
      if (pos < src.length() && Character.isDigit(src.charAt(pos))) {
        isFloat = true;
        while (pos < src.length() && Character.isDigit(src.charAt(pos))) pos++;
      } else {
        pos = mark;
      }
    }
    out.add(new Token(isFloat ? Kind.FLOAT : Kind.INT, src.substring(start, pos).replace("_", ""), line));
  }

  /** A string literal with Python's backslash escapes; an unknown escape keeps its backslash. */
  private void string(char quote) {
    StringBuilder value = new StringBuilder();
    pos++;
    while (true) {
      if (pos >= src.length()) throw new TemplateError("line " + line + ": unclosed string");
      char c = src.charAt(pos++);
      if (c == quote) break;
      if (c == '\n') line++;
      if (c != '\\' || pos >= src.length()) {
        value.append(c);
        continue;
      }
      char e = src.charAt(pos++);
      switch (e) {
        case 'n' -> value.append('\n');
        case 't' -> value.append('\t');
        case 'r' -> value.append('\r');
        case '0' -> value.append('\0');
        case '\\', '\'', '"' -> value.append(e);
        case '\n' -> line++;
        case 'x' -> value.append((char) Integer.parseInt(src.substring(pos, pos += 2), 16));
        case 'u' -> value.append((char) Integer.parseInt(src.substring(pos, pos += 4), 16));
        case 'U' -> value.appendCodePoint(Integer.parseInt(src.substring(pos, pos += 8), 16));
        default -> value.append('\\').append(e);
      }
    }
    out.add(new Token(Kind.STRING, value.toString(), line));
  }

  private String operator() {
    for (String op : OPERATORS) {
      if (src.startsWith(op, pos)) {
        pos += op.length();
        return op;
      }
    }
    throw new TemplateError("line " + line + ": unexpected character '" + src.charAt(pos) + "'");
  }

  private static int count(String s, int from, int to) {
    int n = 0;
    for (int i = from; i < to; i++) if (s.charAt(i) == '\n') n++;
    return n;
  }
}
