package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * A causal language model whose weights are DJL arrays, named as in its Hugging Face checkpoint.
 *
 * <p>The contract between the model architectures and the DPO math: the math sees logits and named
 * parameters, never an architecture.
 */
public interface CausalLm extends AutoCloseable {

  /**
   * The last hidden states, after the final norm: what the LM head turns into logits. Callers that
   * need log-probabilities at a few positions take those rows and run {@link #head} on them only,
   * so no (tokens × vocabulary) array is made for positions nobody scores.
   *
   * @param layout the tokens, their positions and who attends to whom (see {@link TokenLayout})
   * @param training true for a training pass: the only dropout is an adapter's (the base models run
   *     with dropout off, as DPO fine-tuning does)
   * @return (B, T, D) float32, or (P, D) at the layout's {@link TokenLayout#outputs} when it has
   *     some. A slot's state depends only on the slots it may see, so a sequence's
   *     states do not depend on what else is in the batch. States at padding slots are finite and
   *     meaningless. The result and every intermediate belong to the token ids' manager (wrap a pass
   *     in an {@code NDScope}); inputs on another device are copied to the model's. With the
   *     parameters set to require gradients, the graph reaches them.
   * @throws IllegalArgumentException when the layout's span exceeds what the architecture accepts
   *     (GPT-2's n_positions, Mistral's sliding_window)
   */
  NDArray hiddenStates(TokenLayout layout, boolean training);

  /**
   * The LM head: (..., D) hidden states from {@link #hiddenStates} to (..., V) float32 logits, on the
   * hidden states' manager and device.
   */
  default NDArray head(NDArray hidden) {
    return head(hidden, VocabSlice.all(config().vocabSize()));
  }

  /**
   * {@link #head} over the vocabulary entries of {@code slice} only: (..., D) to (..., |slice|), those
   * columns of the full logits, made from the head weight's rows of the slice alone.
   */
  NDArray head(NDArray hidden, VocabSlice slice);

  /**
   * {@link #head} over {@code slice} for a chunk of a training pass: the logits with a backward that
   * adds the head weight's gradient in place instead of through a (V × D) temporary
   * ({@link HeadLogits}). Call its {@code backward} for the chunk's loss, inside the gradient collector.
   */
  default HeadLogits trainingHead(NDArray hidden, VocabSlice slice) {
    return HeadLogits.of(head(hidden, slice));
  }

  /**
   * Whether training accumulates a gradient for the head's (V × D) weight (full fine-tuning), not
   * only for what lies before or beside it (LoRA's frozen base): what streaming the vocabulary in
   * a training pass pays for.
   */
  default boolean headWeightLearns() {
    return false;
  }

  /**
   * Logits at every position of a right-padded batch: {@link #head} of {@link #hiddenStates} of
   * {@link TokenLayout#padded}.
   *
   * @param tokenIds (B, T) int64 token ids, right-padded
   * @param attentionMask (B, T) int64, 1 for real tokens, 0 for padding
   * @return (B, T, V) float32; position t predicts token t+1
   */
  default NDArray logits(NDArray tokenIds, NDArray attentionMask, boolean training) {
    return head(hiddenStates(TokenLayout.padded(tokenIds, attentionMask), training));
  }

  /** {@link #logits(NDArray, NDArray, boolean)} for inference: no dropout anywhere. */
  default NDArray logits(NDArray tokenIds, NDArray attentionMask) {
    return logits(tokenIds, attentionMask, false);
  }

  /**
   * The trainable weights by Hugging Face tensor name, in a stable order. The arrays are live: the
   * optimizer updates them in place and a save writes them as they are now. Tied weights appear once.
   */
  Map<String, NDArray> parameters();

  /**
   * This model for another thread of a data-parallel step, computing at the same time as this one:
   * the same weights, read in place, but gradients that accumulate apart, in arrays of the view's
   * own, until {@link WorkerModel#addGradientsToBase} adds them into this model's. Empty when two
   * passes of this model cannot run at once (LoRA switches its adapters per model).
   */
  default Optional<WorkerModel> forWorker() {
    return Optional.empty();
  }

  /** The hyper-parameters, as in the model's {@code config.json}. */
  ModelConfig config();

  /**
   * The folder the model was loaded from, if any: {@link ModelFolder#save} copies its tokenizer
   * files and keeps its config.json's extra fields.
   */
  default Optional<Path> sourceFolder() {
    return Optional.empty();
  }

  /** The manager that owns the weights; it outlives every training step. */
  NDManager manager();

  /** Frees the weights. */
  @Override
  void close();
}
