package io.prefstream.trainer.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.prefstream.trainer.dpo.Completion;
import io.prefstream.trainer.model.CausalLm;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Ancestral sampling at temperature 1: y_t ~ π(· | x, y_&lt;t), token by token, until the stop token
 * (kept, as training appends it to every response) or {@code maxNewTokens}. The n samples of a
 * prompt grow together as one (n, T) batch of equal lengths, so no padding is needed; each token
 * recomputes the whole prefix (no key/value cache: the models this is for are tiny).
 *
 * <p>The draws come from the caller's {@link Random}: one seed gives the same samples.
 */
public final class ResponseSampler {
  private final int maxNewTokens;
  private final int stopToken;

  public ResponseSampler(int maxNewTokens, int stopToken) {
    if (maxNewTokens < 1) throw new IllegalArgumentException("max new tokens must be >= 1, got " + maxNewTokens);
    this.maxNewTokens = maxNewTokens;
    this.stopToken = stopToken;
  }

  /** @return n responses to {@code prompt}, each as a completion of it */
  public List<Completion> sample(CausalLm model, int[] prompt, int n, Random random) {
    int positions = model.config().maxPositions();
    if (prompt.length + maxNewTokens > positions) {
      throw new IllegalArgumentException("prompt of " + prompt.length + " tokens + " + maxNewTokens + " new tokens exceeds the model's " + positions + " positions");
    }
    int[][] sequences = new int[n][];
    for (int i = 0; i < n; i++) sequences[i] = Arrays.copyOf(prompt, prompt.length);
    int[] length = new int[n]; // response tokens so far, frozen once the stop token is drawn
    boolean[] done = new boolean[n];
    for (int t = 0; t < maxNewTokens && !allTrue(done); t++) {
      float[][] logits = nextTokenLogits(model, sequences);
      for (int i = 0; i < n; i++) {
        int token = draw(logits[i], random); // drawn for finished rows too, so a row's draws don't depend on the others
        sequences[i] = Arrays.copyOf(sequences[i], sequences[i].length + 1);
        sequences[i][sequences[i].length - 1] = token;
        if (done[i]) continue;
        length[i]++;
        done[i] = token == stopToken;
      }
    }
    List<Completion> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) out.add(new Completion(prompt, Arrays.copyOfRange(sequences[i], prompt.length, prompt.length + length[i])));
    return out;
  }

  /** (n, V) logits of the token after each sequence, all of one length. */
  private static float[][] nextTokenLogits(CausalLm model, int[][] sequences) {
    int n = sequences.length;
    int t = sequences[0].length;
    long[] ids = new long[n * t];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < t; j++) ids[i * t + j] = sequences[i][j];
    }
    long[] mask = new long[n * t];
    Arrays.fill(mask, 1);
    // the scope also frees what the model's blocks attach to the weights' manager
    try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager()) {
      NDArray logits = model.logits(m.create(ids, new Shape(n, t)), m.create(mask, new Shape(n, t))); // (n, T, V)
      NDArray last = logits.get(new NDIndex(":, -1, :")); // (n, V)
      int v = (int) last.getShape().get(1);
      float[] flat = last.toFloatArray();
      float[][] rows = new float[n][];
      for (int i = 0; i < n; i++) rows[i] = Arrays.copyOfRange(flat, i * v, (i + 1) * v);
      return rows;
    }
  }

  /** A token drawn from softmax(logits), by inverting the cumulative distribution. */
  private static int draw(float[] logits, Random random) {
    double max = Double.NEGATIVE_INFINITY;
    for (float l : logits) max = Math.max(max, l);
    double[] weights = new double[logits.length];
    double total = 0;
    for (int k = 0; k < logits.length; k++) {
      weights[k] = Math.exp(logits[k] - max); // shifted by the max: no overflow
      total += weights[k];
    }
    double u = random.nextDouble() * total;
    for (int k = 0; k < logits.length; k++) {
      u -= weights[k];
      if (u < 0) return k;
    }
    return logits.length - 1; // u within rounding of the total
  }

  private static boolean allTrue(boolean[] flags) {
    for (boolean f : flags) {
      if (!f) return false;
    }
    return true;
  }
}
