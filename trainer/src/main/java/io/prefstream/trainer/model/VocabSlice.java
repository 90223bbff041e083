package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import java.util.ArrayList;
import java.util.List;

/**
 * Vocabulary entries [from, to): the rows of the LM head's weight a head call scores, and the
 * columns of its logits.
 */
public record VocabSlice(long from, long to) {
  public VocabSlice {
    if (from < 0 || to <= from) throw new IllegalArgumentException("not a vocabulary slice: [" + from + ", " + to + ")");
  }

  public static VocabSlice all(long vocab) {
    return new VocabSlice(0, vocab);
  }

  /** The vocabulary in as few slices of at most {@code maxRows} as it takes, of near-equal size. */
  public static List<VocabSlice> of(long vocab, long maxRows) {
    long count = (vocab + maxRows - 1) / maxRows;
    List<VocabSlice> slices = new ArrayList<>();
    for (long i = 0; i < count; i++) slices.add(new VocabSlice(vocab * i / count, vocab * (i + 1) / count));
    return slices;
  }

  public long size() {
    return to - from;
  }

  /** This slice's rows of a (V, ...) matrix: the matrix itself when it has no others, else a view. */
  NDArray rowsOf(NDArray matrix) {
    return from == 0 && to == matrix.getShape().get(0) ? matrix : matrix.get(new NDIndex("{}:{}", from, to));
  }
}
