package io.prefstream.trainer.tokenize.jinja;

import java.util.List;

/** The syntax tree of a template: statements that write output and expressions that compute values. */
interface Node {

  sealed interface Stmt extends Node {}

  record Text(String text) implements Stmt {}

  record Output(Expr value) implements Stmt {}

  record If(Expr test, List<Stmt> then, List<Stmt> otherwise) implements Stmt {}

  /** {@code for targets in iterable [if filter]}; {@code otherwise} runs when nothing was iterated. */
  record For(List<String> targets, Expr iterable, Expr filter, List<Stmt> body, List<Stmt> otherwise) implements Stmt {}

  /** {@code set a = ...}, {@code set a, b = ...} or {@code set ns.attr = ...} ({@code attribute} non-null). */
  record Set(List<String> targets, String attribute, Expr value) implements Stmt {}

  record SetBlock(String target, List<Stmt> body) implements Stmt {}

  record Macro(String name, List<String> params, List<Expr> defaults, List<Stmt> body) implements Stmt {}

  record Break() implements Stmt {}

  record Continue() implements Stmt {}

  sealed interface Expr extends Node {}

  record Literal(Object value) implements Expr {}

  record Name(String name, int line) implements Expr {}

  record ListExpr(List<Expr> items) implements Expr {}

  record DictExpr(List<Expr> keys, List<Expr> values) implements Expr {}

  record Attribute(Expr target, String name) implements Expr {}

  record Item(Expr target, Expr key) implements Expr {}

  record Slice(Expr target, Expr start, Expr stop, Expr step) implements Expr {}

  record Call(Expr callee, List<Expr> args, List<String> kwNames, List<Expr> kwValues) implements Expr {}

  record Filter(Expr target, String name, List<Expr> args, List<String> kwNames, List<Expr> kwValues, int line) implements Expr {}

  record Test(Expr target, String name, List<Expr> args, boolean negated, int line) implements Expr {}

  record Unary(String op, Expr operand) implements Expr {}

  record Binary(String op, Expr left, Expr right) implements Expr {}

  record Conditional(Expr test, Expr then, Expr otherwise) implements Expr {}
}
