package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A second, deliberately plain forward pass of the Llama family (Llama 3 rope scaling and Qwen3
 * included) and of Gemma 3, in doubles, loop by loop from the Hugging Face modelling code, for one
 * unpadded sequence. It shares nothing with the DJL blocks but the weight names and the config
 * values, so agreement checks rotary frequencies, GQA, q/k norms, biases, sliding windows and the
 * head independently.
 */
final class NaiveDecoder {

  /** What the forward pass needs from either config. */
  private record Spec(
      int layers, int hidden, int heads, int kvHeads, int headDim, double eps, boolean tied,
      boolean gemma, boolean qkNorm, double scale, RopeScaling globalScaling, double globalTheta, double localTheta,
      int window, List<Gemma3Config.LayerType> layerTypes, double softCap) {}

  private final Spec cfg;
  private final Map<String, float[]> w = new HashMap<>();

  NaiveDecoder(CausalLm model) {
    if (model.config() instanceof LlamaConfig c) {
      cfg = new Spec(c.numHiddenLayers(), c.hiddenSize(), c.numAttentionHeads(), c.numKeyValueHeads(),
          c.headDim(), c.rmsNormEps(), c.tieWordEmbeddings(), false, c.modelType().equals("qwen3"), 1 / Math.sqrt(c.headDim()),
          c.ropeScaling(), c.ropeTheta(), c.ropeTheta(), Integer.MAX_VALUE,
          Gemma3Config.layerPattern(c.numHiddenLayers(), 1), 0);
    } else {
      Gemma3Config c = (Gemma3Config) model.config();
      cfg = new Spec(c.numHiddenLayers(), c.hiddenSize(), c.numAttentionHeads(), c.numKeyValueHeads(),
          c.headDim(), c.rmsNormEps(), c.tieWordEmbeddings(), true, true, 1 / Math.sqrt(c.queryPreAttnScalar()),
          c.ropeScaling(), c.ropeTheta(), c.ropeLocalBaseFreq(), c.slidingWindow(), c.layerTypes(),
          c.finalLogitSoftcapping().orElse(0));
    }
    for (Map.Entry<String, NDArray> p : model.parameters().entrySet()) {
      w.put(p.getKey(), p.getValue().toFloatArray());
    }
  }

  /** @return logits [T][V] */
  double[][] logits(int[] ids) {
    int t = ids.length;
    int d = cfg.hidden();
    double[][] x = new double[t][];
    float[] embed = w.get("model.embed_tokens.weight");
    for (int i = 0; i < t; i++) {
      x[i] = row(embed, ids[i], d);
      for (int c = 0; c < d; c++) {
        x[i][c] *= cfg.gemma() ? (float) Math.sqrt(d) : 1;
      }
    }
    for (int l = 0; l < cfg.layers(); l++) {
      String p = "model.layers." + l + ".";
      boolean sliding = cfg.layerTypes().get(l) == Gemma3Config.LayerType.SLIDING;
      double[][] h = new double[t][];
      for (int i = 0; i < t; i++) {
        h[i] = rmsNorm(x[i], w.get(p + "input_layernorm.weight"));
      }
      double[][] attn = attention(h, p + "self_attn.", sliding);
      for (int i = 0; i < t; i++) {
        if (cfg.gemma()) {
          x[i] = add(x[i], rmsNorm(attn[i], w.get(p + "post_attention_layernorm.weight")));
          double[] m = rmsNorm(x[i], w.get(p + "pre_feedforward_layernorm.weight"));
          x[i] = add(x[i], rmsNorm(mlp(m, p + "mlp."), w.get(p + "post_feedforward_layernorm.weight")));
        } else {
          x[i] = add(x[i], attn[i]);
          x[i] = add(x[i], mlp(rmsNorm(x[i], w.get(p + "post_attention_layernorm.weight")), p + "mlp."));
        }
      }
    }
    String head = cfg.tied() ? "model.embed_tokens." : "lm_head.";
    double[][] out = new double[t][];
    for (int i = 0; i < t; i++) {
      out[i] = linear(rmsNorm(x[i], w.get("model.norm.weight")), head);
      for (int v = 0; cfg.softCap() > 0 && v < out[i].length; v++) {
        out[i][v] = cfg.softCap() * Math.tanh(out[i][v] / cfg.softCap());
      }
    }
    return out;
  }

  private double[] mlp(double[] m, String p) {
    double[] gate = linear(m, p + "gate_proj.");
    double[] up = linear(m, p + "up_proj.");
    double[] act = new double[gate.length];
    for (int j = 0; j < act.length; j++) {
      double g = gate[j];
      act[j] = (cfg.gemma() ? 0.5 * g * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (g + 0.044715 * g * g * g))) : g / (1 + Math.exp(-g))) * up[j];
    }
    return linear(act, p + "down_proj.");
  }

  private double[][] attention(double[][] h, String p, boolean sliding) {
    int t = h.length;
    int nh = cfg.heads();
    int nkv = cfg.kvHeads();
    int hd = cfg.headDim();
    double[] frequencies = sliding ? frequencies(cfg.localTheta(), RopeScaling.NONE) : frequencies(cfg.globalTheta(), cfg.globalScaling());
    double[][] q = new double[t][];
    double[][] k = new double[t][];
    double[][] v = new double[t][];
    for (int i = 0; i < t; i++) {
      q[i] = rope(headNorm(linear(h[i], p + "q_proj."), p + "q_norm.weight"), i, nh, frequencies);
      k[i] = rope(headNorm(linear(h[i], p + "k_proj."), p + "k_norm.weight"), i, nkv, frequencies);
      v[i] = linear(h[i], p + "v_proj.");
    }
    int window = sliding ? cfg.window() : Integer.MAX_VALUE;
    double[][] y = new double[t][nh * hd];
    for (int head = 0; head < nh; head++) {
      int kvHead = head / (nh / nkv);
      for (int i = 0; i < t; i++) {
        int first = Math.max(0, i - window + 1);
        double[] scores = new double[i + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = first; j <= i; j++) {
          for (int c = 0; c < hd; c++) {
            scores[j] += q[i][head * hd + c] * k[j][kvHead * hd + c];
          }
          scores[j] *= cfg.scale();
          max = Math.max(max, scores[j]);
        }
        double sum = 0;
        for (int j = first; j <= i; j++) {
          scores[j] = Math.exp(scores[j] - max);
          sum += scores[j];
        }
        for (int j = first; j <= i; j++) {
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

  /** modeling_rope_utils: θ^(-2c/hd), divided by the factor (linear) or by band (llama3). */
  private double[] frequencies(double theta, RopeScaling scaling) {
    int hd = cfg.headDim();
    double[] f = new double[hd / 2];
    for (int c = 0; c < f.length; c++) {
      double base = Math.pow(theta, -2.0 * c / hd);
      f[c] = switch (scaling.type()) {
        case DEFAULT -> base;
        case LINEAR -> base / scaling.factor();
        case LLAMA3 -> {
          double wavelength = 2 * Math.PI / base;
          double lowWavelength = scaling.originalMaxPositions() / scaling.lowFreqFactor();
          double highWavelength = scaling.originalMaxPositions() / scaling.highFreqFactor();
          double smooth = (scaling.originalMaxPositions() / wavelength - scaling.lowFreqFactor())
              / (scaling.highFreqFactor() - scaling.lowFreqFactor());
          yield wavelength < highWavelength ? base
              : wavelength > lowWavelength ? base / scaling.factor()
              : (1 - smooth) * base / scaling.factor() + smooth * base;
        }
      };
    }
    return f;
  }

  /** Rotate-half rotary embedding at position pos: pairs (c, c + hd/2) turn by pos·f_c. */
  private double[] rope(double[] x, int pos, int heads, double[] frequencies) {
    int hd = cfg.headDim();
    double[] out = x.clone();
    for (int head = 0; head < heads; head++) {
      for (int c = 0; c < hd / 2; c++) {
        double angle = pos * frequencies[c];
        double a = x[head * hd + c];
        double b = x[head * hd + c + hd / 2];
        out[head * hd + c] = a * Math.cos(angle) - b * Math.sin(angle);
        out[head * hd + c + hd / 2] = b * Math.cos(angle) + a * Math.sin(angle);
      }
    }
    return out;
  }

  /** RMSNorm of each head's slice when the model has q/k norms. */
  private double[] headNorm(double[] x, String weight) {
    if (!cfg.qkNorm()) {
      return x;
    }
    int hd = cfg.headDim();
    double[] out = new double[x.length];
    for (int head = 0; head < x.length / hd; head++) {
      double[] slice = new double[hd];
      System.arraycopy(x, head * hd, slice, 0, hd);
      System.arraycopy(rmsNorm(slice, w.get(weight)), 0, out, head * hd, hd);
    }
    return out;
  }

  /** x / rms(x) · g, g = w (Llama) or 1 + w (Gemma). */
  private double[] rmsNorm(double[] x, float[] g) {
    double ms = 0;
    for (double v : x) {
      ms += v * v / x.length;
    }
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = x[i] / Math.sqrt(ms + cfg.eps()) * (cfg.gemma() ? 1 + g[i] : g[i]);
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
