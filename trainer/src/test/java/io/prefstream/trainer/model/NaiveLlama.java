package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import java.util.HashMap;
import java.util.Map;

/**
 * A second, deliberately plain Llama forward pass in doubles, loop by loop from the Hugging Face
 * modelling code, for one unpadded sequence. It shares nothing with the DJL blocks but the weight
 * names, so agreement checks rotary embeddings, GQA, biases and the head independently.
 */
final class NaiveLlama {

  private final LlamaConfig cfg;
  private final Map<String, float[]> w = new HashMap<>();

  NaiveLlama(CausalLm model) {
    cfg = (LlamaConfig) model.config();
    for (Map.Entry<String, NDArray> p : model.parameters().entrySet()) {
      w.put(p.getKey(), p.getValue().toFloatArray());
    }
  }

  /** @return logits [T][V] */
  double[][] logits(int[] ids) {
    int t = ids.length;
    int d = cfg.hiddenSize();
    double[][] x = new double[t][];
    float[] embed = w.get("model.embed_tokens.weight");
    for (int i = 0; i < t; i++) {
      x[i] = row(embed, ids[i], d);
    }
    for (int l = 0; l < cfg.numHiddenLayers(); l++) {
      String p = "model.layers." + l + ".";
      double[][] h = new double[t][];
      for (int i = 0; i < t; i++) {
        h[i] = rmsNorm(x[i], w.get(p + "input_layernorm.weight"));
      }
      double[][] attn = attention(h, p + "self_attn.");
      for (int i = 0; i < t; i++) {
        x[i] = add(x[i], attn[i]);
        double[] m = rmsNorm(x[i], w.get(p + "post_attention_layernorm.weight"));
        double[] gate = linear(m, p + "mlp.gate_proj.");
        double[] up = linear(m, p + "mlp.up_proj.");
        double[] act = new double[gate.length];
        for (int j = 0; j < act.length; j++) {
          act[j] = gate[j] / (1 + Math.exp(-gate[j])) * up[j];
        }
        x[i] = add(x[i], linear(act, p + "mlp.down_proj."));
      }
    }
    String head = cfg.tieWordEmbeddings() ? "model.embed_tokens." : "lm_head.";
    double[][] out = new double[t][];
    for (int i = 0; i < t; i++) {
      out[i] = linear(rmsNorm(x[i], w.get("model.norm.weight")), head);
    }
    return out;
  }

  private double[][] attention(double[][] h, String p) {
    int t = h.length;
    int nh = cfg.numAttentionHeads();
    int nkv = cfg.numKeyValueHeads();
    int hd = cfg.headDim();
    double[][] q = new double[t][];
    double[][] k = new double[t][];
    double[][] v = new double[t][];
    for (int i = 0; i < t; i++) {
      q[i] = rope(linear(h[i], p + "q_proj."), i, nh);
      k[i] = rope(linear(h[i], p + "k_proj."), i, nkv);
      v[i] = linear(h[i], p + "v_proj.");
    }
    double[][] y = new double[t][nh * hd];
    for (int head = 0; head < nh; head++) {
      int kvHead = head / (nh / nkv);
      for (int i = 0; i < t; i++) {
        double[] scores = new double[i + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j <= i; j++) {
          for (int c = 0; c < hd; c++) {
            scores[j] += q[i][head * hd + c] * k[j][kvHead * hd + c];
          }
          scores[j] /= Math.sqrt(hd);
          max = Math.max(max, scores[j]);
        }
        double sum = 0;
        for (int j = 0; j <= i; j++) {
          scores[j] = Math.exp(scores[j] - max);
          sum += scores[j];
        }
        for (int j = 0; j <= i; j++) {
          for (int c = 0; c < hd; c++) {
            y[i][head * hd + c] += scores[j] / sum * v[j][kvHead * hd + c];
          }
        }
      }
    }
    double[][] out = new double[t][];
    for (int i = 0; i < t; i++) {
      out[i] = linear(y[i], p + "o_proj.");
    }
    return out;
  }

  /** Rotate-half rotary embedding at position pos: pairs (c, c + hd/2) turn by pos·θ^(-2c/hd). */
  private double[] rope(double[] x, int pos, int heads) {
    int hd = cfg.headDim();
    double[] out = x.clone();
    for (int head = 0; head < heads; head++) {
      for (int c = 0; c < hd / 2; c++) {
        double angle = pos * Math.pow(cfg.ropeTheta(), -2.0 * c / hd);
        double a = x[head * hd + c];
        double b = x[head * hd + c + hd / 2];
        out[head * hd + c] = a * Math.cos(angle) - b * Math.sin(angle);
        out[head * hd + c + hd / 2] = b * Math.cos(angle) + a * Math.sin(angle);
      }
    }
    return out;
  }

  private double[] rmsNorm(double[] x, float[] g) {
    double ms = 0;
    for (double v : x) {
      ms += v * v / x.length;
    }
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = x[i] / Math.sqrt(ms + cfg.rmsNormEps()) * g[i];
    }
    return out;
  }

  /** y = W x + b, W stored [out, in]. */
  private double[] linear(double[] x, String prefix) {
    float[] weight = w.get(prefix + "weight");
    float[] bias = w.get(prefix + "bias");
    int out = weight.length / x.length;
    double[] y = new double[out];
    for (int o = 0; o < out; o++) {
      double s = bias == null ? 0 : bias[o];
      for (int i = 0; i < x.length; i++) {
        s += weight[o * x.length + i] * x[i];
      }
      y[o] = s;
    }
    return y;
  }

  private static double[] row(float[] matrix, int r, int width) {
    double[] out = new double[width];
    for (int i = 0; i < width; i++) {
      out[i] = matrix[r * width + i];
    }
    return out;
  }

  private static double[] add(double[] a, double[] b) {
    double[] out = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = a[i] + b[i];
    }
    return out;
  }
}
