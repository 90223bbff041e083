package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import ai.djl.pytorch.jni.JniUtils;

/**
 * table[ids], whose backward adds only the looked-up rows into the table's gradient.
 *
 * <p>PyTorch's dense embedding backward builds a fresh (V × D) gradient and then adds it into
 * {@code .grad}: 545 MB at Qwen's vocabulary, on top of the gradient itself, at the peak of the
 * trunk's backward. Its sparse backward hands autograd the rows (ids, D) instead, which it adds into
 * an existing dense {@code .grad} in place (an index_add). Same sums, so the same gradient; the
 * dense {@code .grad} is made first so that the sparse one never becomes it.
 */
final class TokenEmbedding {
  private TokenEmbedding() {}

  /** (..., D) rows of {@code table} (V, D) at {@code ids} (...) int64. */
  static NDArray lookup(NDArray ids, NDArray table) {
    if (table.hasGradient() && JniUtils.isGradMode()) DenseGradient.ensure(table);
    return Embedding.embedding(ids, table, SparseFormat.COO).head();
  }
}
