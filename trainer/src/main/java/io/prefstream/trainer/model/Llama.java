package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The Llama family (Touvron et al. 2023, arXiv:2302.13971), computing what Hugging Face's
 * {@code LlamaForCausalLM} computes, with dropout off; Mistral and Qwen2 are this network too:
 *
 * <pre>
 *   x = embed_tokens[ids]                          no position embedding: rotary, inside attention
 *   for each layer:  x = x + self_attn(input_layernorm(x));  x = x + mlp(post_attention_layernorm(x))
 *   logits = lm_head(norm(x))                      lm_head is embed_tokens when tied
 * </pre>
 *
 * <ul>
 *   <li>RMSNorm instead of LayerNorm ({@link RmsNorm}).
 *   <li>Rotary position embeddings (Su et al. 2021, arXiv:2104.09864) in Hugging Face's rotate-half
 *       convention: dimension i pairs with i + d/2, not with its neighbour, at frequency θ^(-2i/d).
 *   <li>Grouped-query attention (Ainslie et al. 2023, arXiv:2305.13245): num_key_value_heads k/v heads,
 *       each shared by num_attention_heads / num_key_value_heads query heads.
 *   <li>SwiGLU feed-forward (Shazeer 2020, arXiv:2002.05202): down(silu(gate(x)) ⊙ up(x)).
 *   <li>Qwen2: biases on q/k/v. Llama's {@code attention_bias}: biases on q/k/v/o.
 *   <li>Mistral: its sliding window equals full causal attention for sequences no longer than the
 *       window, the only ones accepted.
 * </ul>
 *
 * <p>Checkpoint names: {@code model.embed_tokens, model.layers.{i}.input_layernorm,
 * model.layers.{i}.self_attn.{q,k,v,o}_proj, model.layers.{i}.post_attention_layernorm,
 * model.layers.{i}.mlp.{gate,up,down}_proj, model.norm, lm_head} (+ {@code .weight}/{@code .bias}),
 * projections stored [out, in]. Old exports' {@code rotary_emb.inv_freq} buffers are ignored.
 */
final class Llama extends AbstractBlock implements LmBlock {

  private static final Pattern BUFFER = Pattern.compile("model\\.layers\\.\\d+\\.self_attn\\.rotary_emb\\.inv_freq");

  private final LlamaConfig cfg;
  private final Parameter embedTokens;       // (V, D)
  private final List<Layer> layers;
  private final RmsNorm norm;
  private final Optional<Projection> lmHead; // (D) -> (V), only when untied
  private final NDArray invFreq;             // (1, hd/2): θ^(-2i/hd), i = 0..hd/2-1
  private final NDArray maskedScore;         // scalar Attention.MASKED_SCORE
  private final WeightTable weights;

  Llama(LlamaConfig cfg, NDManager constants) {
    this.cfg = cfg;
    embedTokens = addParameter(Parameter.builder().setName("embed_tokens").setType(Parameter.Type.WEIGHT).build());
    List<Layer> list = new ArrayList<>();
    for (int i = 0; i < cfg.numHiddenLayers(); i++) {
      list.add(addChildBlock("layers" + i, new Layer(cfg, constants)));
    }
    layers = List.copyOf(list);
    norm = addChildBlock("norm", new RmsNorm(cfg.hiddenSize(), cfg.rmsNormEps(), constants));
    lmHead = cfg.tieWordEmbeddings()
        ? Optional.empty()
        : Optional.of(addChildBlock("lm_head", new Projection(Projection.Layout.OUT_IN, cfg.hiddenSize(), cfg.vocabSize(), false)));
    float[] frequencies = new float[cfg.headDim() / 2];
    for (int i = 0; i < frequencies.length; i++) {
      frequencies[i] = (float) Math.pow(cfg.ropeTheta(), -2.0 * i / cfg.headDim());
    }
    invFreq = constants.create(frequencies, new Shape(1, frequencies.length));
    maskedScore = constants.create(Attention.MASKED_SCORE);
    weights = declareWeights();
  }

  /** The weight-name table: every Hugging Face name this architecture reads and writes. */
  private WeightTable declareWeights() {
    WeightTable.Builder t = WeightTable.builder()
        .ignoring(name -> BUFFER.matcher(name).matches() || (cfg.tieWordEmbeddings() && name.equals("lm_head.weight")));
    t.add("model.embed_tokens.weight", embedTokens, new Shape(cfg.vocabSize(), cfg.hiddenSize()));
    for (int i = 0; i < layers.size(); i++) {
      Layer layer = layers.get(i);
      String p = "model.layers." + i + ".";
      layer.inputLayernorm.declare(t, p + "input_layernorm.");
      layer.selfAttn.qProj.declare(t, p + "self_attn.q_proj.");
      layer.selfAttn.kProj.declare(t, p + "self_attn.k_proj.");
      layer.selfAttn.vProj.declare(t, p + "self_attn.v_proj.");
      layer.selfAttn.oProj.declare(t, p + "self_attn.o_proj.");
      layer.postAttentionLayernorm.declare(t, p + "post_attention_layernorm.");
      layer.mlp.gateProj.declare(t, p + "mlp.gate_proj.");
      layer.mlp.upProj.declare(t, p + "mlp.up_proj.");
      layer.mlp.downProj.declare(t, p + "mlp.down_proj.");
    }
    norm.declare(t, "model.norm.");
    lmHead.ifPresent(head -> head.declare(t, "lm_head."));
    return t.build();
  }

  @Override
  public WeightTable weights() {
    return weights;
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray ids = inputs.get(0);                                                  // (B, T) int64
    NDArray mask = inputs.get(1);                                                 // (B, T) int64
    long t = ids.getShape().get(1);
    if (cfg.slidingWindow() > 0 && t > cfg.slidingWindow()) {
      throw new IllegalArgumentException(
          "sequence of " + t + " tokens exceeds " + cfg.modelType() + "'s sliding_window " + cfg.slidingWindow()
              + "; only sequences within the window are supported");
    }
    NDArray embedding = ps.getValue(embedTokens, ids.getDevice(), training);
    NDArray x = Embedding.embedding(ids, embedding, SparseFormat.DENSE).head();  // (B, T, D)
    NDList rotary = rotary(ids.getManager(), t);                                 // cos, sin: (1, 1, T, hd)
    NDArray bias = Attention.bias(mask, maskedScore);                            // (B, 1, T, T)
    for (Layer layer : layers) {
      x = layer.forward(ps, new NDList(x, bias, rotary.get(0), rotary.get(1)), training).head(); // (B, T, D)
    }
    return norm.forward(ps, new NDList(x), training);                            // (B, T, D)
  }

  @Override
  public NDArray head(ParameterStore ps, NDArray hidden) {
    return lmHead.isPresent()
        ? lmHead.get().forward(ps, new NDList(hidden), false).head()             // (..., V)
        : Linear.linear(hidden, ps.getValue(embedTokens, hidden.getDevice(), false)).head(); // (..., V): x · embed_tokensᵀ
  }

  /** cos and sin of position·θ^(-2i/hd), the frequencies repeated over both halves as rotate-half expects. */
  private NDList rotary(NDManager manager, long t) {
    NDArray positions = manager.arange(0f, (float) t, 1f).reshape(t, 1);        // (T, 1)
    NDArray angles = positions.matMul(invFreq);                                   // (T, hd/2)
    NDArray both = NDArrays.concat(new NDList(angles, angles), 1).reshape(1, 1, t, cfg.headDim()); // (1, 1, T, hd)
    return new NDList(both.cos(), both.sin());
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0].add(cfg.hiddenSize())};
  }

  /** One pre-norm decoder layer. Inputs: x (B, T, D), mask bias (B, 1, T, T), cos and sin (1, 1, T, hd). */
  private static final class Layer extends AbstractBlock {
    private final RmsNorm inputLayernorm;
    private final SelfAttention selfAttn;
    private final RmsNorm postAttentionLayernorm;
    private final Mlp mlp;

    Layer(LlamaConfig cfg, NDManager constants) {
      inputLayernorm = addChildBlock("input_layernorm", new RmsNorm(cfg.hiddenSize(), cfg.rmsNormEps(), constants));
      selfAttn = addChildBlock("self_attn", new SelfAttention(cfg, constants));
      postAttentionLayernorm = addChildBlock("post_attention_layernorm", new RmsNorm(cfg.hiddenSize(), cfg.rmsNormEps(), constants));
      mlp = addChildBlock("mlp", new Mlp(cfg));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
      NDArray x = inputs.get(0);                                                  // (B, T, D)
      NDArray a = inputLayernorm.forward(ps, new NDList(x), training).head();
      NDList attnInputs = new NDList(a, inputs.get(1), inputs.get(2), inputs.get(3));
      x = x.add(selfAttn.forward(ps, attnInputs, training).head());
      NDArray m = postAttentionLayernorm.forward(ps, new NDList(x), training).head();
      return new NDList(x.add(mlp.forward(ps, new NDList(m), training).head()));  // (B, T, D)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
      return new Shape[] {inputShapes[0]};
    }
  }

  /** Causal grouped-query self-attention with rotary positions on q and k. */
  private static final class SelfAttention extends AbstractBlock {
    private final long nHead;
    private final long nKvHead;
    private final long headDim;
    private final Projection qProj; // (B, T, D) -> (B, T, nh·hd)
    private final Projection kProj; // (B, T, D) -> (B, T, nkv·hd)
    private final Projection vProj; // (B, T, D) -> (B, T, nkv·hd)
    private final Projection oProj; // (B, T, nh·hd) -> (B, T, D)
    private final NDArray scale;    // 1/√hd

    SelfAttention(LlamaConfig cfg, NDManager constants) {
      nHead = cfg.numAttentionHeads();
      nKvHead = cfg.numKeyValueHeads();
      headDim = cfg.headDim();
      long d = cfg.hiddenSize();
      qProj = addChildBlock("q_proj", new Projection(Projection.Layout.OUT_IN, d, nHead * headDim, cfg.qkvBias()));
      kProj = addChildBlock("k_proj", new Projection(Projection.Layout.OUT_IN, d, nKvHead * headDim, cfg.qkvBias()));
      vProj = addChildBlock("v_proj", new Projection(Projection.Layout.OUT_IN, d, nKvHead * headDim, cfg.qkvBias()));
      oProj = addChildBlock("o_proj", new Projection(Projection.Layout.OUT_IN, nHead * headDim, d, cfg.oBias()));
      scale = constants.create((float) (1.0 / Math.sqrt(headDim)));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
      NDList x = new NDList(inputs.get(0));                                       // (B, T, D)
      NDArray bias = inputs.get(1);                                               // (B, 1, T, T)
      NDArray cos = inputs.get(2);                                                // (1, 1, T, hd)
      NDArray sin = inputs.get(3);                                                // (1, 1, T, hd)
      NDArray q = Attention.splitHeads(qProj.forward(ps, x, training).head(), nHead);   // (B, nh, T, hd)
      NDArray k = Attention.splitHeads(kProj.forward(ps, x, training).head(), nKvHead); // (B, nkv, T, hd)
      NDArray v = Attention.splitHeads(vProj.forward(ps, x, training).head(), nKvHead); // (B, nkv, T, hd)
      q = rotate(q, cos, sin);
      k = rotate(k, cos, sin);
      NDArray y = Attention.scaledDotProduct(q, repeatKv(k), repeatKv(v), bias, scale); // (B, nh, T, hd)
      return oProj.forward(ps, new NDList(Attention.mergeHeads(y)), training);    // (B, T, D)
    }

    /** Rotary embedding, rotate-half form: x·cos + rotate_half(x)·sin, rotate_half(x) = [-x₂, x₁]. */
    private NDArray rotate(NDArray x, NDArray cos, NDArray sin) {
      long half = headDim / 2;
      NDArray x1 = x.get(new NDIndex("..., :{}", half));                         // (B, h, T, hd/2)
      NDArray x2 = x.get(new NDIndex("..., {}:", half));                         // (B, h, T, hd/2)
      NDArray rotated = NDArrays.concat(new NDList(x2.neg(), x1), 3);            // (B, h, T, hd)
      return x.mul(cos).add(rotated.mul(sin));
    }

    /** (B, nkv, T, hd) -> (B, nh, T, hd): kv head j serves query heads j·r .. j·r + r - 1, r = nh / nkv. */
    private NDArray repeatKv(NDArray kv) {
      if (nKvHead == nHead) {
        return kv;
      }
      Shape s = kv.getShape();
      long r = nHead / nKvHead;
      return kv.expandDims(2).broadcast(s.get(0), nKvHead, r, s.get(2), headDim).reshape(s.get(0), nHead, s.get(2), headDim);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
      return new Shape[] {inputShapes[0]};
    }
  }

  /** SwiGLU feed-forward: down_proj(silu(gate_proj(x)) ⊙ up_proj(x)). */
  private static final class Mlp extends AbstractBlock {
    private final Projection gateProj; // (B, T, D) -> (B, T, I)
    private final Projection upProj;   // (B, T, D) -> (B, T, I)
    private final Projection downProj; // (B, T, I) -> (B, T, D)

    Mlp(LlamaConfig cfg) {
      long d = cfg.hiddenSize();
      long i = cfg.intermediateSize();
      gateProj = addChildBlock("gate_proj", new Projection(Projection.Layout.OUT_IN, d, i, false));
      upProj = addChildBlock("up_proj", new Projection(Projection.Layout.OUT_IN, d, i, false));
      downProj = addChildBlock("down_proj", new Projection(Projection.Layout.OUT_IN, i, d, false));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
      NDArray gate = gateProj.forward(ps, inputs, training).head();              // (B, T, I)
      NDArray up = upProj.forward(ps, inputs, training).head();                  // (B, T, I)
      NDArray silu = gate.mul(Activation.sigmoid(gate));                          // silu(g) = g·σ(g)
      return downProj.forward(ps, new NDList(silu.mul(up)), training);            // (B, T, D)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
      return inputShapes;
    }
  }
}
