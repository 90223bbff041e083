package io.prefstream.trainer.dpo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.prefstream.trainer.model.VocabSlice;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The softmax summed up slice by slice against float64 over the whole row. */
class OnlineSoftmaxTest {
  private static final int VOCAB = 12;
  /**
   * Row 0: ordinary logits. Row 1: its largest logit in the last slice, far above the others, so the
   * running sum is rescaled by exp(-300) and the first slices underflow. Row 2: logits near 1e4,
   * where log π must not be rounded at the logits' size. Row 3: its second slice (entries 4-7) far
   * below the first, so that slice's share underflows; its target lies there.
   */
  private static final double[][] LOGITS = {
      {0.5, -1.2, 2.0, 0.0, 3.1, -0.7, 1.4, 0.2, -2.5, 0.9, 1.1, -0.3},
      {1.0, 0.5, -0.5, 2.0, 0.0, 1.5, -1.0, 0.3, 0.1, 300.0, 299.0, 2.0},
      {10_000.0, 10_001.5, 9_999.25, 10_000.5, 10_002.0, 9_998.0, 10_000.0, 10_001.0, 9_997.5, 10_000.25, 10_001.75, 9_999.0},
      {0.0, 1.0, 2.0, 3.0, -200.0, -201.0, -199.0, -198.5, 1.5, 2.5, -0.5, 1.0}};
  private static final long[] TARGETS = {4, 0, 3, 5};

  @Test
  void targetLogProbs_sumOfSquares_andGradient_equalTheWholeRowInDoubles() {
    try (NDManager m = NDManager.newBaseManager()) {
      float[] flat = new float[LOGITS.length * VOCAB];
      for (int r = 0; r < LOGITS.length; r++) for (int v = 0; v < VOCAB; v++) flat[r * VOCAB + v] = (float) LOGITS[r][v];
      NDArray logits = m.create(flat, new Shape(LOGITS.length, VOCAB));
      List<VocabSlice> slices = VocabSlice.of(VOCAB, 5);                         // 4, 4 and 4 entries
      OnlineSoftmax softmax = new OnlineSoftmax(TARGETS, true, m);
      for (VocabSlice slice : slices) softmax.add(columns(logits, slice), slice);
      NDArray w = m.create(new float[] {1f, -2f, 0.5f, 3f}, new Shape(LOGITS.length, 1));

      float[] logProbs = softmax.targetLogProbs().toFloatArray();
      float[] logSumOfSquares = softmax.logSumOfSquares().toFloatArray();
      for (int r = 0; r < LOGITS.length; r++) {
        double[] logPi = logSoftmax(LOGITS[r]);
        double sumOfSquares = 0;
        for (double lp : logPi) sumOfSquares += Math.exp(2 * lp);
        assertThat((double) logProbs[r]).as("log π(y) of row %d", r).isCloseTo(logPi[(int) TARGETS[r]], within(1e-5));
        assertThat((double) logSumOfSquares[r]).as("log Σπ² of row %d", r).isCloseTo(Math.log(sumOfSquares), within(1e-5));
      }
      for (VocabSlice slice : slices) {
        float[] gradient = softmax.logitsGradient(columns(logits, slice), slice, w).toFloatArray();
        for (int r = 0; r < LOGITS.length; r++) {
          double[] logPi = logSoftmax(LOGITS[r]);
          for (long v = slice.from(); v < slice.to(); v++) {
            double expected = w.getFloat(r, 0) * ((v == TARGETS[r] ? 1 : 0) - Math.exp(logPi[(int) v]));
            assertThat((double) gradient[(int) (r * slice.size() + v - slice.from())]).as("∂L/∂z[%d, %d]", r, v).isCloseTo(expected, within(1e-6));
          }
        }
      }
    }
  }

  private static NDArray columns(NDArray logits, VocabSlice slice) {
    return logits.get(new NDIndex(":, {}:{}", slice.from(), slice.to()));
  }

  private static double[] logSoftmax(double[] z) {
    double max = Double.NEGATIVE_INFINITY;
    for (double x : z) max = Math.max(max, x);
    double sum = 0;
    for (double x : z) sum += Math.exp(x - max);
    double[] out = new double[z.length];
    for (int i = 0; i < z.length; i++) out[i] = z[i] - max - Math.log(sum);
    return out;
  }
}
