package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.HeadLogits;
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
 * share of the loss and backward through the head alone, which accumulates ∂L/∂h and the head's
 * gradient (in place, a vocabulary slice at a time: {@link HeadLogits}) and frees the chunk; a last
 * backward of Σ h ⊙ ∂L/∂h carries ∂L/∂h through the trunk. The loss is a sum over examples, each
 * depending only on its own responses, so by the chain rule these are the gradients of the whole
 * loss at once.
 *
 * <p>Within a chunk autograd runs only from the loss to the responses' log-probabilities; the
 * logits' gradient is the log-softmax's closed form, ∂L/∂z_t = w_t · (onehot(y_t) − softmax(z_t))
 * with w_t = ∂L/∂log π(y_t), made in the softmax's own (positions × vocabulary) array. Autograd
 * held four such arrays (the logits, the log-softmax, the gathered gradient spread back to full
 * size and its own result); this holds two, and runs no log-softmax backward.
 *
 * <p>Two variants of the preference family change what a pass computes ({@link Options}): LD-DPO
 * (Liu et al. 2024, arXiv:2409.06411) counts the tokens past the shortest of an example's
 * responses α times, so that length alone earns no reward; WPO (Zhou et al. 2024,
 * arXiv:2406.11827, Eq. 2) weighs each response by exp(mean over its tokens of log π(y_t) − log
 * Σ_v π(v)²), read from the same logits, without a gradient.
 */
public final class SequenceLogProbs {
  /**
   * Logits one chunk may hold: 2^24 floats (64 MiB), ~110 positions at Qwen's vocabulary. Twice
   * that makes the Qwen-vocabulary step's head ~25% cheaper (longer products, half the passes over
   * W) but raises its peak by ~290 MiB (bench/README.md); the peak may not grow.
   */
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

  /** As {@link ExampleLoss}, also given the examples' WPO weights. */
  @FunctionalInterface
  public interface WeightedExampleLoss {
    /**
     * @param logProbs (b, K) log-probabilities of examples [first, first + b), with their graph
     * @param wpoWeights (b, K) WPO's weights without a graph; null unless asked for
     * @return the scalar whose gradient is accumulated
     */
    NDArray of(NDArray logProbs, NDArray wpoWeights, int first);
  }

  /**
   * What a pass computes.
   *
   * @param ldAlpha LD-DPO's α in [0, 1]; 1: every token counts once
   * @param wpo whether to compute WPO's weights
   */
  public record Options(LogProbAggregation aggregation, double ldAlpha, boolean wpo) {
    public static Options of(LogProbAggregation aggregation) {
      return new Options(aggregation, 1, false);
    }
  }

  /**
   * @param logProbs (B, K) log-probabilities without a graph, on the batch's manager
   * @param wpoWeights (B, K) WPO's weights; null unless asked for
   */
  public record Scored(NDArray logProbs, NDArray wpoWeights) {}

  /**
   * Rows' log-probabilities, WPO's aligned mean log-probabilities (null unless asked for), and what
   * their gradient needs: the positions' softmax and targets, and how the rows weigh them.
   *
   * @param softmax (P, V)
   * @param targets (P, 1) int64
   * @param selection (rows, P)
   */
  private record Rows(NDArray logProbs, NDArray wpoAligned, NDArray softmax, NDArray targets, NDArray selection) {}

  /**
   * @return (B, K) float32 log-probabilities of each example's responses, best first, without a
   *     graph, on the batch's manager
   */
  public static NDArray of(CausalLm model, PreferenceBatch batch, LogProbAggregation aggregation) {
    return of(model, batch, Options.of(aggregation), CHUNK_LOGITS).logProbs();
  }

  static NDArray of(CausalLm model, PreferenceBatch batch, LogProbAggregation aggregation, long chunkLogits) {
    return of(model, batch, Options.of(aggregation), chunkLogits).logProbs();
  }

  /** A pass without a graph that computes what {@code options} asks. */
  public static Scored of(CausalLm model, PreferenceBatch batch, Options options) {
    return of(model, batch, options, CHUNK_LOGITS);
  }

  private static Scored of(CausalLm model, PreferenceBatch batch, Options options, long chunkLogits) {
    ScoredPositions scored = batch.scored();
    float[] perRow = new float[scored.rows()];
    float[] wpoPerRow = options.wpo() ? new float[scored.rows()] : null;
    try (NDScope pass = new NDScope()) {
      NDArray hidden = model.hiddenStates(batch.layout(), false);               // (P, D) at the scoring slots
      for (int[] rows : chunks(scored, 1, model.config().vocabSize(), chunkLogits)) {
        try (NDScope chunk = new NDScope()) {
          NDArray logits = model.head(states(hidden, scored, rows[0], rows[1]));   // (P, V)
          Rows r = rowLogProbs(logits, scored, rows[0], rows[1], options, batch.responsesPerExample());
          copy(r.logProbs(), perRow, rows[0]);
          if (wpoPerRow != null) copy(r.wpoAligned(), wpoPerRow, rows[0]);
        }
      }
    }
    return scored(perRow, wpoPerRow, batch);
  }

  /**
   * A training pass: accumulates the gradient of Σ over chunks of {@code loss} into every parameter
   * that requires one, through head and trunk (see the class comment).
   *
   * @return (B, K) float32 log-probabilities without a graph, on the batch's manager
   */
  public static NDArray backward(
      CausalLm model, PreferenceBatch batch, LogProbAggregation aggregation, GradientCollector collector, ExampleLoss loss) {
    return backward(model, batch, Options.of(aggregation), collector, (logProbs, wpo, first) -> loss.of(logProbs, first), CHUNK_LOGITS).logProbs();
  }

  static NDArray backward(
      CausalLm model, PreferenceBatch batch, LogProbAggregation aggregation, GradientCollector collector, ExampleLoss loss, long chunkLogits) {
    return backward(model, batch, Options.of(aggregation), collector, (logProbs, wpo, first) -> loss.of(logProbs, first), chunkLogits).logProbs();
  }

  /** A training pass that computes what {@code options} asks and hands the WPO weights to the loss. */
  public static Scored backward(CausalLm model, PreferenceBatch batch, Options options, GradientCollector collector, WeightedExampleLoss loss) {
    return backward(model, batch, options, collector, loss, CHUNK_LOGITS);
  }

  static Scored backward(
      CausalLm model,
      PreferenceBatch batch,
      Options options,
      GradientCollector collector,
      WeightedExampleLoss loss,
      long chunkLogits) {
    ScoredPositions scored = batch.scored();
    int k = batch.responsesPerExample();
    float[] perRow = new float[scored.rows()];
    float[] wpoPerRow = options.wpo() ? new float[scored.rows()] : null;
    try (NDScope pass = new NDScope()) {
      NDArray hidden = model.hiddenStates(batch.layout(), true);                // (P, D) at the scoring slots, with the trunk's graph
      NDArray cut = hidden.stopGradient();                                        // the same states as a leaf
      cut.setRequiresGradient(true);
      for (int[] rows : chunks(scored, k, model.config().vocabSize(), chunkLogits)) {
        try (NDScope chunk = new NDScope()) {
          HeadLogits head = model.trainingHead(states(cut, scored, rows[0], rows[1]));
          Rows r;
          try (NDArray logits = head.logits().stopGradient()) {                   // values; the head frees them in its backward
            r = rowLogProbs(logits, scored, rows[0], rows[1], options, k);
          }
          int examples = (rows[1] - rows[0]) / k;
          NDArray wpoWeights = r.wpoAligned() == null ? null : r.wpoAligned().exp().reshape(examples, k);
          NDArray logProbs = r.logProbs().reshape(examples, k);                   // a leaf: the loss's graph starts here
          logProbs.setRequiresGradient(true);
          collector.backward(loss.of(logProbs, wpoWeights, rows[0] / k));
          NDArray perPosition = r.selection().transpose().matMul(logProbs.getGradient().reshape(rows[1] - rows[0], 1)); // (P, 1): ∂L/∂log π(y_t)
          head.backward(collector, logitsGradient(r.softmax(), r.targets(), perPosition));
          copy(r.logProbs(), perRow, rows[0]);
          if (wpoPerRow != null) copy(r.wpoAligned(), wpoPerRow, rows[0]);
        }
      }
      NDArray trunkGradient = cut.getGradient();                                 // ∂L/∂h, (P, D)
      collector.backward(hidden.mul(trunkGradient).sum());
    }
    return scored(perRow, wpoPerRow, batch);
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

  /** (P, D): the hidden states at the scored positions of rows [r0, r1). */
  private static NDArray states(NDArray hidden, ScoredPositions scored, int r0, int r1) {
    int from = scored.rowStarts()[r0];
    int to = scored.rowStarts()[r1];
    return hidden.get(hidden.getManager().create(Arrays.copyOfRange(scored.positions(), from, to)));
  }

  /**
   * Log-probabilities of rows [r0, r1), (r1 - r0), from the head's logits at their scored positions
   * only (values, without a graph); rows of k per example.
   *
   * <p>log π(y_t) = z_t[y_t] − lse(z_t), with lse(z_t) = max z_t − log softmax(z_t)[argmax z_t]: the
   * softmax at the largest logit is at least 1/V, so its log is exact to float rounding, and the
   * softmax is what the gradient is made of ({@link #logitsGradient}); no log-softmax array.
   */
  private static Rows rowLogProbs(NDArray logits, ScoredPositions scored, int r0, int r1, Options options, int k) {
    NDManager m = logits.getManager();
    int from = scored.rowStarts()[r0];
    int to = scored.rowStarts()[r1];
    int p = to - from;
    NDArray softmax = logits.softmax(1);                                         // (P, V)
    NDArray top = logits.argMax(1).reshape(p, 1);                                // (P, 1)
    NDArray topLogits = logits.gather(top, 1);                                   // (P, 1)
    NDArray logTopProbability = softmax.gather(top, 1).log();                    // (P, 1): z_top − lse
    NDArray targets = m.create(Arrays.copyOfRange(scored.targets(), from, to), new Shape(p, 1));
    // (z_y − z_top) + log π(top): rounded at the size of log π(y_t), not of the largest logit
    NDArray tokens = logits.gather(targets, 1).sub(topLogits).add(logTopProbability); // (P, 1): log π(y_t)
    NDArray wpoAligned = null;
    if (options.wpo()) {
      // log Σ_v π(v)² = lse(2z) − 2·lse(z)
      NDArray logSumSquares;                                                     // (P, 1)
      try (NDArray doubled = logits.add(logits)) {
        logSumSquares = logSumExp(doubled).sub(topLogits.sub(logTopProbability).mul(2));
      }
      NDArray aligned = tokens.sub(logSumSquares);
      wpoAligned = rowSelection(scored, r0, r1, LogProbAggregation.MEAN, 1, k, m).matMul(aligned).reshape(r1 - r0); // (rows)
    }
    NDArray selection = rowSelection(scored, r0, r1, options.aggregation(), options.ldAlpha(), k, m); // (rows, P)
    NDArray logProbs = selection.matMul(tokens).reshape(r1 - r0);                // (rows)
    return new Rows(logProbs, wpoAligned, softmax, targets, selection);
  }

  /**
   * ∂L/∂z = w_t · (onehot(y_t) − softmax(z_t)) at each position t, given w_t = ∂L/∂log π(y_t): the
   * gradient of Σ_t w_t · log softmax(z_t)[y_t]. Made in the softmax's storage.
   *
   * @param perPosition (P, 1) w
   * @return (P, V), the softmax overwritten
   */
  private static NDArray logitsGradient(NDArray softmax, NDArray targets, NDArray perPosition) {
    NDArray gradient = softmax.muli(perPosition.neg());                          // −w_t · softmax(z_t)
    long p = targets.size();
    NDIndex atTargets = new NDIndex("{}, {}", gradient.getManager().arange(0, (int) p, 1, DataType.INT64), targets.reshape(p));
    gradient.set(atTargets, gradient.gather(targets, 1).add(perPosition).reshape(p)); // + w_t at y_t
    return gradient;
  }

  /** log Σ_v exp(x_v) per row, (P, V) -> (P, 1); its (P, V) temporaries freed before it returns. */
  private static NDArray logSumExp(NDArray x) {
    NDArray max = x.max(new int[] {1}, true);
    try (NDArray shifted = x.sub(max); NDArray exp = shifted.exp()) {
      return exp.sum(new int[] {1}, true).log().add(max);
    }
  }

  /**
   * (rows, P): row r's weight on its own positions, 1 to sum them, 1/|y| to average them; with
   * LD-DPO's α < 1, α instead of 1 past the shortest response of the row's example.
   */
  private static NDArray rowSelection(ScoredPositions scored, int r0, int r1, LogProbAggregation aggregation, double ldAlpha, int k, NDManager m) {
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
      if (ldAlpha < 1) {
        int shared = sharedLength(scored, r / k * k, k);
        Arrays.fill(select, offset + Math.min(shared, length), offset + length, (float) (weight * ldAlpha));
      }
    }
    return m.create(select, new Shape(r1 - r0, p));
  }

  /** The length of the shortest of the k responses from row {@code first}. */
  private static int sharedLength(ScoredPositions scored, int first, int k) {
    int shared = Integer.MAX_VALUE;
    for (int r = first; r < first + k; r++) shared = Math.min(shared, scored.count(r, r + 1));
    return shared;
  }

  private static void copy(NDArray rowLogProbs, float[] perRow, int firstRow) {
    float[] values = rowLogProbs.toFloatArray();
    System.arraycopy(values, 0, perRow, firstRow, values.length);
  }

  private static Scored scored(float[] perRow, float[] wpoAlignedPerRow, PreferenceBatch batch) {
    NDManager m = batch.weights().getManager();
    Shape bk = new Shape(batch.examples(), batch.responsesPerExample());
    return new Scored(m.create(perRow, bk), wpoAlignedPerRow == null ? null : m.create(wpoAlignedPerRow, bk).exp());
  }
}
