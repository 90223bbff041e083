package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.prefstream.trainer.model.CausalLm;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * log π(y|x) = Σ_t log softmax(head(h_{t-1}))[y_t] over the response tokens, as in the DPO paper's
 * reference code: the hidden state at position t-1 scores token t; prompt and padding are never
 * scored.
 *
 * <p>The LM head and the log-softmax run only at the scored positions, a chunk of rows at a time
 * (at most {@link #CHUNK_LOGITS} logits), so no pass holds a (tokens × vocabulary) array for a
 * whole micro-batch: at Qwen's vocabulary of 151,936, one such array for 8 pairs of 64 tokens is
 * 622 MB, and a training pass used to hold several.
 *
 * <p>Training ({@link #backward}) keeps that bound with gradients. The trunk's hidden states h are
 * cut from the graph into a leaf; each chunk of whole examples runs head, log-softmax, its examples'
 * share of the loss and backward through the head alone, which accumulates the head's gradient and
 * ∂L/∂h and frees the chunk; a last backward of Σ h ⊙ ∂L/∂h carries ∂L/∂h through the trunk. The
 * loss is a sum over examples, each depending only on its own responses, so by the chain rule these
 * are the gradients of the whole loss at once.
 */
public final class SequenceLogProbs {
  /** Logits one chunk may hold: 2^24 floats (64 MiB), ~110 positions at Qwen's vocabulary. */
  static final long CHUNK_LOGITS = 1L << 24;

  private SequenceLogProbs() {}

  /** The training loss of consecutive examples, given their log-probabilities. */
  @FunctionalInterface
  public interface ExampleLoss {
    /**
     * @param logProbs (b, K) log-probabilities of examples [first, first + b), with their graph
     * @return the scalar whose gradient is accumulated
     */
    NDArray of(NDArray logProbs, int first);
  }

  /**
   * @return (B, K) float32 log-probabilities of each example's responses, best first, without a
   *     graph, on the batch's manager
   */
  public static NDArray of(CausalLm model, PreferenceBatch batch, LogProbAggregation aggregation) {
    return of(model, batch, aggregation, CHUNK_LOGITS);
  }

  static NDArray of(CausalLm model, PreferenceBatch batch, LogProbAggregation aggregation, long chunkLogits) {
    ScoredPositions scored = batch.scored();
    float[] perRow = new float[scored.rows()];
    try (NDScope pass = new NDScope()) {
      NDArray hidden = flatHidden(model, batch, false);
      for (int[] rows : chunks(scored, 1, model.config().vocabSize(), chunkLogits)) {
        try (NDScope chunk = new NDScope()) {
          copy(rowLogProbs(model, hidden, scored, rows[0], rows[1], aggregation), perRow, rows[0]);
        }
      }
    }
    return perExample(perRow, batch);
  }

  /**
   * A training pass: accumulates the gradient of Σ over chunks of {@code loss} into every parameter
   * that requires one, through head and trunk (see the class comment).
   *
   * @return (B, K) float32 log-probabilities without a graph, on the batch's manager
   */
  public static NDArray backward(
      CausalLm model, PreferenceBatch batch, LogProbAggregation aggregation, GradientCollector collector, ExampleLoss loss) {
    return backward(model, batch, aggregation, collector, loss, CHUNK_LOGITS);
  }

  static NDArray backward(
      CausalLm model,
      PreferenceBatch batch,
      LogProbAggregation aggregation,
      GradientCollector collector,
      ExampleLoss loss,
      long chunkLogits) {
    ScoredPositions scored = batch.scored();
    int k = batch.responsesPerExample();
    float[] perRow = new float[scored.rows()];
    try (NDScope pass = new NDScope()) {
      NDArray hidden = flatHidden(model, batch, true);                           // (B·T, D), with the trunk's graph
      NDArray cut = hidden.stopGradient();                                        // the same states as a leaf
      cut.setRequiresGradient(true);
      for (int[] rows : chunks(scored, k, model.config().vocabSize(), chunkLogits)) {
        try (NDScope chunk = new NDScope()) {
          NDArray logProbs = rowLogProbs(model, cut, scored, rows[0], rows[1], aggregation); // (rows)
          collector.backward(loss.of(logProbs.reshape((rows[1] - rows[0]) / k, k), rows[0] / k));
          copy(logProbs, perRow, rows[0]);
        }
      }
      NDArray trunkGradient = cut.getGradient();                                 // ∂L/∂h, (B·T, D)
      collector.backward(hidden.mul(trunkGradient).sum());
    }
    return perExample(perRow, batch);
  }

  /** The final hidden states of every slot, one row each: (B·T, D). */
  private static NDArray flatHidden(CausalLm model, PreferenceBatch batch, boolean training) {
    NDArray hidden = model.hiddenStates(batch.layout(), training);               // (B, T, D)
    Shape s = hidden.getShape();
    return hidden.reshape(s.get(0) * s.get(1), s.get(2));
  }

  /** Rows [r0, r1) in groups of {@code unit} rows, as many groups a chunk as fit {@code chunkLogits}; at least one. */
  private static List<int[]> chunks(ScoredPositions scored, int unit, long vocab, long chunkLogits) {
    List<int[]> chunks = new ArrayList<>();
    int start = 0;
    while (start < scored.rows()) {
      int end = start + unit;
      while (end + unit <= scored.rows() && (long) scored.count(start, end + unit) * vocab <= chunkLogits) end += unit;
      chunks.add(new int[] {start, end});
      start = end;
    }
    return chunks;
  }

  /** Log-probabilities of rows [r0, r1), (r1 - r0), from the head at their scored positions only. */
  private static NDArray rowLogProbs(
      CausalLm model, NDArray hidden, ScoredPositions scored, int r0, int r1, LogProbAggregation aggregation) {
    NDManager m = hidden.getManager();
    int from = scored.rowStarts()[r0];
    int to = scored.rowStarts()[r1];
    int p = to - from;
    NDArray states = hidden.get(m.create(Arrays.copyOfRange(scored.positions(), from, to))); // (P, D)
    NDArray logits = model.head(states);                                         // (P, V)
    NDArray logSoftmax = logits.logSoftmax(1);                                   // (P, V)
    // the graph keeps what backward needs; closing the handles frees the rest now, not at the pass's end
    logits.close();
    NDArray targets = m.create(Arrays.copyOfRange(scored.targets(), from, to), new Shape(p, 1));
    NDArray tokens = logSoftmax.gather(targets, 1);                              // (P, 1)
    logSoftmax.close();
    return rowSelection(scored, r0, r1, aggregation, m).matMul(tokens).reshape(r1 - r0); // (rows)
  }

  /** (rows, P): row r's weight on its own positions, 1 to sum them, 1/|y| to average them. */
  private static NDArray rowSelection(ScoredPositions scored, int r0, int r1, LogProbAggregation aggregation, NDManager m) {
    int from = scored.rowStarts()[r0];
    int p = scored.count(r0, r1);
    float[] select = new float[(r1 - r0) * p];
    for (int r = r0; r < r1; r++) {
      int length = scored.count(r, r + 1);
      float weight = switch (aggregation) {
        case SUM -> 1f;
        case MEAN -> 1f / length;
      };
      int offset = (r - r0) * p + scored.rowStarts()[r] - from;
      Arrays.fill(select, offset, offset + length, weight);
    }
    return m.create(select, new Shape(r1 - r0, p));
  }

  private static void copy(NDArray rowLogProbs, float[] perRow, int firstRow) {
    float[] values = rowLogProbs.toFloatArray();
    System.arraycopy(values, 0, perRow, firstRow, values.length);
  }

  private static NDArray perExample(float[] perRow, PreferenceBatch batch) {
    return batch.weights().getManager().create(perRow, new Shape(batch.examples(), batch.responsesPerExample()));
  }
}
