package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * Test-side log π(y|x): one right-padded batch through the model, then in doubles: logits at t-1
 * score token t, summed over the response. Independent of the trainer's own log-prob code.
 */
final class SequenceLogProbs {

  private SequenceLogProbs() {}

  record Sequence(int[] prompt, int[] response) {
    int length() {
      return prompt.length + response.length;
    }
  }

  static double[] sum(CausalLm model, List<Sequence> sequences) {
    int b = sequences.size();
    int t = sequences.stream().mapToInt(Sequence::length).max().orElseThrow();
    long[] ids = new long[b * t];
    long[] mask = new long[b * t];
    for (int i = 0; i < b; i++) {
      Sequence s = sequences.get(i);
      for (int j = 0; j < s.length(); j++) {
        ids[i * t + j] = j < s.prompt().length ? s.prompt()[j] : s.response()[j - s.prompt().length];
        mask[i * t + j] = 1;
      }
    }
    NDManager m = model.manager().newSubManager();
    try (m) {
      NDArray logits = model.logits(m.create(ids, new Shape(b, t)), m.create(mask, new Shape(b, t)));
      int v = (int) logits.getShape().get(2);
      float[] values = logits.toFloatArray();
      double[] sums = new double[b];
      for (int i = 0; i < b; i++) {
        Sequence s = sequences.get(i);
        for (int j = s.prompt().length; j < s.length(); j++) {
          sums[i] += logSoftmaxAt(values, (i * t + j - 1) * v, v, (int) ids[i * t + j]);
        }
      }
      return sums;
    }
  }

  private static double logSoftmaxAt(float[] logits, int offset, int v, int token) {
    double max = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < v; k++) {
      max = Math.max(max, logits[offset + k]);
    }
    double sum = 0;
    for (int k = 0; k < v; k++) {
      sum += Math.exp(logits[offset + k] - max);
    }
    return logits[offset + token] - max - Math.log(sum);
  }
}
