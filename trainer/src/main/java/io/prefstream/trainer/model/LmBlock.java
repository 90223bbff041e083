package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;

/**
 * An architecture: a block from a {@link TokenLayout}'s {@code (token ids (B, T) int64, position ids
 * (B, T) int64, visibility (B, T, T) boolean, token slots (N) int64, slot tokens (B·T) int64[, output
 * tokens (P) int64])} (see {@link TokenLayout.Occupied}; the output tokens index the N tokens) to the
 * final-normed hidden states {@code (B, T, D) float32}, or {@code (P, D)} at the output tokens (see
 * {@link TokenLayout#outputs}), a {@link #head} from those to logits, and its weights by Hugging Face
 * name. Between embedding and final norm every layer computes on the N tokens, {@code (1, N, D)}, and
 * attention on the rows.
 */
interface LmBlock extends Block {

  /** @throws IllegalArgumentException when sequences of {@code span} tokens exceed what the architecture accepts */
  void checkSpan(long span);

  /**
   * (..., D) hidden states to (..., V) logits: the LM head, tied to the token embedding or not. Its
   * product with the (V, D) weight goes through {@code products}, which may give it its own backward.
   */
  NDArray head(ParameterStore ps, NDArray hidden, HeadLogits products);

  /** The (V, D) weight the head's product takes: the token embedding when tied, else lm_head's. */
  Parameter headWeight();

  /** Every weight by checkpoint name; the arrays are set by loading or initializing the table. */
  WeightTable weights();
}
