package io.prefstream.trainer.model;

import ai.djl.nn.Block;

/**
 * An architecture: a block from {@code (token ids (B, T) int64, attention mask (B, T) int64)} to
 * {@code logits (B, T, V) float32}, with its weights by Hugging Face name.
 */
interface LmBlock extends Block {

  /** Every weight by checkpoint name; the arrays are set by loading or initializing the table. */
  WeightTable weights();
}
