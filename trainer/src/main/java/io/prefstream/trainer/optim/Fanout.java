package io.prefstream.trainer.optim;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.ToLongFunction;

/**
 * Runs a piece of work on each of a list of items, on several threads at once where it has them.
 * For work whose runs are independent, such as an update's per-parameter arithmetic, which reads
 * and writes only its own parameter's arrays: the result is then the same however the items are
 * shared out.
 */
public interface Fanout {
  /** Everything on the calling thread, in the items' order. */
  Fanout SERIAL = new Fanout() {
    @Override
    public <T> void each(List<T> items, ToLongFunction<T> weight, Consumer<T> work) {
      items.forEach(work);
    }
  };

  /**
   * Runs {@code work} on every item and returns when all runs are done.
   *
   * @param weight how much work an item is, to share the items out evenly
   */
  <T> void each(List<T> items, ToLongFunction<T> weight, Consumer<T> work);
}
