package io.prefstream.trainer.tokenize.jinja;

import java.util.List;

/** The {@code loop} variable of a for loop. */
final class Loop {
  private final List<Object> items;
  private int index;

  Loop(List<Object> items) {
    this.items = items;
  }

  void moveTo(int i) {
    index = i;
  }

  Object attribute(String name) {
    int n = items.size();
    return switch (name) {
      case "index" -> (long) index + 1;
      case "index0" -> (long) index;
      case "revindex" -> (long) (n - index);
      case "revindex0" -> (long) (n - index - 1);
      case "first" -> index == 0;
      case "last" -> index == n - 1;
      case "length" -> (long) n;
      case "depth" -> 1L;
      case "depth0" -> 0L;
      case "previtem" -> index > 0 ? items.get(index - 1) : new Py.Undefined("loop.previtem");
      case "nextitem" -> index < n - 1 ? items.get(index + 1) : new Py.Undefined("loop.nextitem");
      case "cycle" -> (Py.Callable) (args, kw) -> args.get(index % args.size());
      default -> new Py.Undefined("loop." + name);
    };
  }
}
