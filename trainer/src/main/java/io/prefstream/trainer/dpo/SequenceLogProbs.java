package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.HeadLogits;
import io.prefstream.trainer.model.VocabSlice;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * log π(y|x) = Σ_t log softmax(head(h_{t-1}))[y_t] over the response tokens, as in the DPO paper's
 * reference code: the hidden state at position t-1 scores token t; prompt and padding are never
 * scored.
 *
 * <p>The LM head and the log-softmax run only at the scored positions, a chunk of rows at a time,
 * and over the vocabulary a slice at a time ({@link Chunking}): no pass holds more than one slice's
 * logits for a chunk's positions. At Qwen's vocabulary of 151,936, the (tokens × vocabulary) logits
 * of 8 pairs of 64 tokens are 622 MB, and a training pass used to hold several such arrays. The
 * softmax's normaliser is summed up slice by slice ({@link OnlineSoftmax}), so a chunk can hold
 * many positions, and the head's products are long, at a small peak.
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
 * with w_t = ∂L/∂log π(y_t), made slice by slice in the softmax's own (positions × slice) array.
 * With one slice its logits are kept from the first reading; with several, each slice's logits are
 * made again once the loss has given w, one product more for a peak that does not grow with the
 * vocabulary, taken only when the head's weight learns ({@link Chunking#trainingSlices}). Autograd
 * held four (positions × vocabulary) arrays (the logits, the log-softmax, the gathered gradient
 * spread back to full size and its own result); this holds two of a slice each, and runs no
 * log-softmax backward.
 *
 * <p>Two variants of the preference family change what a pass computes ({@link Options}): LD-DPO
 * (Liu et al. 2024, arXiv:2409.06411) counts the tokens past the shortest of an example's
 * responses α times, so that length alone earns no reward; WPO (Zhou et al. 2024,
 * arXiv:2406.11827, Eq. 2) weighs each response by exp(mean over its tokens of log π(y_t) − log
 * Σ_v π(v)²), read from the same logits, without a gradient.
 */
public final class SequenceLogProbs {
  /**
   * How a pass cuts its work: the vocabulary in near-equal slices of at most {@code sliceRows}, and
   * the scored rows in chunks of whole examples with at most {@code logits} logits in a slice.
   */
  record Chunking(long logits, long sliceRows) {
    /**
     * 2^24 logits (64 MiB) and slices of up to 16,384 rows (a (slice × D) head-gradient temporary,
     * 56 MiB at D = 896): at Qwen's vocabulary, 10 slices and up to ~1,100 positions a chunk, so a
     * micro-batch of 8 pairs of 40-token responses is one chunk; a small vocabulary is one slice.
     */
    static final Chunking DEFAULT = new Chunking(1L << 24, 16_384);

    Chunking {
      if (logits < 1 || sliceRows < 1) throw new IllegalArgumentException("chunks need logits and slice rows >= 1, got " + logits + ", " + sliceRows);
    }

    List<VocabSlice> slices(long vocab) {
      return VocabSlice.of(vocab, sliceRows);
    }

    /**
     * A training pass's slices: with several, each slice's product is made twice, which pays when
     * the head's weight learns (its gradient is then added once a pass, not once a chunk, and every
     * product is long), not for a frozen head (LoRA), which takes the whole vocabulary in chunks.
     */
    List<VocabSlice> trainingSlices(CausalLm model) {
      long vocab = model.config().vocabSize();
      return model.headWeightLearns() ? slices(vocab) : List.of(VocabSlice.all(vocab));
    }
  }

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
   * Rows' log-probabilities, WPO's aligned mean log-probabilities (null unless asked for), and how
   * the rows weigh their positions, which their gradient needs.
   *
   * @param selection (rows, P)
   */
  private record Rows(NDArray logProbs, NDArray wpoAligned, NDArray selection) {}

  /**
   * @return (B, K) float32 log-probabilities of each example's responses, best first, without a
   *     graph, on the batch's manager
   */
  public static NDArray of(CausalLm model, PreferenceBatch batch, LogProbAggregation aggregation) {
    return of(model, batch, Options.of(aggregation), Chunking.DEFAULT).logProbs();
  }

  static NDArray of(CausalLm model, PreferenceBatch batch, LogProbAggregation aggregation, Chunking chunking) {
    return of(model, batch, Options.of(aggregation), chunking).logProbs();
  }

  /** A pass without a graph that computes what {@code options} asks. */
  public static Scored of(CausalLm model, PreferenceBatch batch, Options options) {
    return of(model, batch, options, Chunking.DEFAULT);
  }

  static Scored of(CausalLm model, PreferenceBatch batch, Options options, Chunking chunking) {
    ScoredPositions scored = batch.scored();
    List<VocabSlice> slices = chunking.slices(model.config().vocabSize());
    float[] perRow = new float[scored.rows()];
    float[] wpoPerRow = options.wpo() ? new float[scored.rows()] : null;
    try (NDScope pass = new NDScope()) {
      NDArray hidden = model.hiddenStates(batch.layout(), false);               // (P, D) at the scoring slots
      for (int[] rows : chunks(scored, 1, slices, chunking.logits())) {
        try (NDScope chunk = new NDScope()) {
          NDArray states = states(hidden, scored, rows[0], rows[1]);
          OnlineSoftmax softmax = softmax(slices, slice -> model.head(states, slice), targets(scored, rows[0], rows[1]), options.wpo(), hidden.getManager());
          Rows r = rowLogProbs(softmax, scored, rows[0], rows[1], options, batch.responsesPerExample());
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
    return backward(model, batch, Options.of(aggregation), collector, (logProbs, wpo, first) -> loss.of(logProbs, first), Chunking.DEFAULT).logProbs();
  }

  static NDArray backward(
      CausalLm model, PreferenceBatch batch, LogProbAggregation aggregation, GradientCollector collector, ExampleLoss loss, Chunking chunking) {
    return backward(model, batch, Options.of(aggregation), collector, (logProbs, wpo, first) -> loss.of(logProbs, first), chunking).logProbs();
  }

  /** A training pass that computes what {@code options} asks and hands the WPO weights to the loss. */
  public static Scored backward(CausalLm model, PreferenceBatch batch, Options options, GradientCollector collector, WeightedExampleLoss loss) {
    return backward(model, batch, options, collector, loss, Chunking.DEFAULT);
  }

  static Scored backward(
      CausalLm model,
      PreferenceBatch batch,
      Options options,
      GradientCollector collector,
      WeightedExampleLoss loss,
      Chunking chunking) {
    ScoredPositions scored = batch.scored();
    List<VocabSlice> slices = chunking.trainingSlices(model);
    int k = batch.responsesPerExample();
    float[] perRow = new float[scored.rows()];
    float[] wpoPerRow = options.wpo() ? new float[scored.rows()] : null;
    try (NDScope pass = new NDScope()) {
      NDArray hidden = model.hiddenStates(batch.layout(), true);                // (P, D) at the scoring slots, with the trunk's graph
      NDArray cut = hidden.stopGradient();                                        // the same states as a leaf
      cut.setRequiresGradient(true);
      for (int[] rows : chunks(scored, k, slices, chunking.logits())) {
        try (NDScope chunk = new NDScope()) {
          long[] targets = targets(scored, rows[0], rows[1]);
          // one slice: its head is kept for the gradient; several: read without a graph, each made again below
          HeadLogits only = slices.size() == 1 ? model.trainingHead(states(cut, scored, rows[0], rows[1]), slices.get(0)) : null;
          OnlineSoftmax softmax = only != null
              ? softmax(slices, slice -> only.logits(), targets, options.wpo(), cut.getManager())
              : withoutGraph(() -> {
                NDArray values = states(cut, scored, rows[0], rows[1]);             // no graph: autograd is off here
                return softmax(slices, slice -> model.head(values, slice), targets, options.wpo(), cut.getManager());
              });
          Rows r = rowLogProbs(softmax, scored, rows[0], rows[1], options, k);
          int examples = (rows[1] - rows[0]) / k;
          NDArray wpoWeights = r.wpoAligned() == null ? null : r.wpoAligned().exp().reshape(examples, k);
          NDArray logProbs = r.logProbs().reshape(examples, k);                   // a leaf: the loss's graph starts here
          logProbs.setRequiresGradient(true);
          collector.backward(loss.of(logProbs, wpoWeights, rows[0] / k));
          NDArray perPosition = r.selection().transpose().matMul(logProbs.getGradient().reshape(rows[1] - rows[0], 1)); // (P, 1): ∂L/∂log π(y_t)
          for (VocabSlice slice : slices) {
            try (NDScope perSlice = new NDScope()) {
              // each head's backward runs through its own gather of the states: a graph is run once
              HeadLogits head = only != null ? only : model.trainingHead(states(cut, scored, rows[0], rows[1]), slice);
              NDArray gradient;
              try (NDArray logits = head.logits().stopGradient()) {
                gradient = softmax.logitsGradient(logits, slice, perPosition);
              }
              head.backward(collector, gradient);
            }
          }
          copy(r.logProbs(), perRow, rows[0]);
          if (wpoPerRow != null) copy(r.wpoAligned(), wpoPerRow, rows[0]);
        }
      }
      NDArray trunkGradient = cut.getGradient();                                 // ∂L/∂h, (P, D)
      collector.backward(hidden.mul(trunkGradient).sum());
    }
    return scored(perRow, wpoPerRow, batch);
  }

  /** The softmax of a chunk's logits, read a slice at a time, what each slice's logits make freed before the next's. */
  private static OnlineSoftmax softmax(
      List<VocabSlice> slices, Function<VocabSlice, NDArray> logitsOf, long[] targets, boolean squares, NDManager manager) {
    OnlineSoftmax softmax = new OnlineSoftmax(targets, squares, manager);
    for (VocabSlice slice : slices) {
      try (NDScope perSlice = new NDScope()) {
        softmax.add(logitsOf.apply(slice), slice);                               // (P, |slice|)
      }
    }
    return softmax;
  }

  /** {@code work} with autograd off on this thread: a pass that reads values records no graph. */
  private static <T> T withoutGraph(Supplier<T> work) {
    boolean recording = JniUtils.isGradMode();
    JniUtils.setGradMode(false);
    try {
      return work.get();
    } finally {
      JniUtils.setGradMode(recording);
    }
  }

  /** Rows in groups of {@code unit} rows, as many groups a chunk as fit {@code chunkLogits} in the widest slice; at least one. */
  private static List<int[]> chunks(ScoredPositions scored, int unit, List<VocabSlice> slices, long chunkLogits) {
    long widest = slices.stream().mapToLong(VocabSlice::size).max().orElseThrow();
    List<int[]> chunks = new ArrayList<>();
    int start = 0;
    while (start < scored.rows()) {
      int end = start + unit;
      while (end + unit <= scored.rows() && (long) scored.count(start, end + unit) * widest <= chunkLogits) end += unit;
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

  /** The target tokens of rows [r0, r1)'s scored positions. */
  private static long[] targets(ScoredPositions scored, int r0, int r1) {
    return Arrays.copyOfRange(scored.targets(), scored.rowStarts()[r0], scored.rowStarts()[r1]);
  }

  /**
   * Log-probabilities of rows [r0, r1), (r1 - r0), from their scored positions' softmax, every slice
   * in; rows of k per example.
   */
  private static Rows rowLogProbs(OnlineSoftmax softmax, ScoredPositions scored, int r0, int r1, Options options, int k) {
    NDArray tokens = softmax.targetLogProbs();                                   // (P, 1): log π(y_t)
    NDManager m = tokens.getManager();
    NDArray wpoAligned = null;
    if (options.wpo()) {
      NDArray aligned = tokens.sub(softmax.logSumOfSquares());
      wpoAligned = rowSelection(scored, r0, r1, LogProbAggregation.MEAN, 1, k, m).matMul(aligned).reshape(r1 - r0); // (rows)
    }
    NDArray selection = rowSelection(scored, r0, r1, options.aggregation(), options.ldAlpha(), k, m); // (rows, P)
    NDArray logProbs = selection.matMul(tokens).reshape(r1 - r0);                // (rows)
    return new Rows(logProbs, wpoAligned, selection);
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
