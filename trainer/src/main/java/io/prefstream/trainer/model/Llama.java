package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
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
 *   <li>Rotary position embeddings ({@link RotaryEmbedding}), Llama 3's frequency scaling included
 *       ({@link RopeScaling}).
 *   <li>Grouped-query attention ({@link GroupedQueryAttention}).
 *   <li>SwiGLU feed-forward ({@link GatedMlp}): down(silu(gate(x)) ⊙ up(x)).
 *   <li>Qwen2: biases on q/k/v. Llama's {@code attention_bias}: biases on q/k/v/o.
 *   <li>Qwen3: no biases; an RMSNorm over each head's q and k before the rotation ({@code q_norm},
 *       {@code k_norm}), and a head_dim of its own (not hidden_size / num_attention_heads).
 *   <li>Mistral: its sliding window equals full causal attention for sequences no longer than the
 *       window, the only ones accepted.
 * </ul>
 *
 * <p>Checkpoint names: {@code model.embed_tokens, model.layers.{i}.input_layernorm,
 * model.layers.{i}.self_attn.{q,k,v,o}_proj, model.layers.{i}.self_attn.{q,k}_norm (Qwen3),
 * model.layers.{i}.post_attention_layernorm,
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
  private final RotaryEmbedding rotary;
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
    rotary = new RotaryEmbedding(cfg.ropeTheta(), cfg.ropeScaling(), cfg.headDim(), constants);
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
      layer.selfAttn.declare(t, p + "self_attn.");
      layer.postAttentionLayernorm.declare(t, p + "post_attention_layernorm.");
      layer.mlp.declare(t, p + "mlp.");
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
    NDArray embedding = ps.getValue(embedTokens, ids.getDevice(), training);
    NDArray x = TokenEmbedding.lookup(ids, embedding);                           // (B, T, D)
    NDList cosSin = rotary.cosSin(inputs.get(1));                                // cos, sin: (B, 1, T, hd)
    NDArray bias = Attention.bias(inputs.get(2), maskedScore);                   // (B, 1, T, T)
    NDArray slotTokens = inputs.get(4);
    x = Attention.toTokens(x, inputs.get(3));                                     // (1, N, D)
    for (int i = 0; i < layers.size(); i++) {
      NDList layerInputs = new NDList(x, bias, cosSin.get(0), cosSin.get(1), inputs.get(3), slotTokens);
      if (i == layers.size() - 1 && inputs.size() > 5) layerInputs.add(inputs.get(5)); // the output tokens
      x = layers.get(i).forward(ps, layerInputs, training).head();               // (1, N, D); the last (P, D) with outputs
    }
    NDArray out = norm.forward(ps, new NDList(x), training).head();             // (1, N, D) or (P, D)
    Shape rows = ids.getShape();
    return new NDList(inputs.size() > 5 ? out : Attention.toRows(out, slotTokens, rows.get(0), rows.get(1))); // (B, T, D) or (P, D)
  }

  @Override
  public void checkSpan(long span) {
    if (cfg.slidingWindow() > 0 && span > cfg.slidingWindow()) {
      throw new IllegalArgumentException(
          "sequence of " + span + " tokens exceeds " + cfg.modelType() + "'s sliding_window " + cfg.slidingWindow()
              + "; only sequences within the window are supported");
    }
  }

  @Override
  public NDArray head(ParameterStore ps, NDArray hidden, HeadLogits products) {
    return lmHead.isPresent()
        ? lmHead.get().asHead(ps, hidden, products)                              // (..., V)
        : products.project(hidden, ps.getValue(embedTokens, hidden.getDevice(), false)); // (..., V): x · embed_tokensᵀ
  }

  @Override
  public Parameter headWeight() {
    return lmHead.map(Projection::weight).orElse(embedTokens);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0].add(cfg.hiddenSize())};
  }

  /**
   * One pre-norm decoder layer. Inputs: x (1, N, D), mask bias (B, 1, T, T), cos and sin (B or 1, 1,
   * T, hd), token slots (N), slot tokens (B·T), optionally the output tokens (P), where alone the
   * feed-forward half then runs.
   */
  private static final class Layer extends AbstractBlock {
    private final RmsNorm inputLayernorm;
    private final GroupedQueryAttention selfAttn;
    private final RmsNorm postAttentionLayernorm;
    private final GatedMlp mlp;

    Layer(LlamaConfig cfg, NDManager constants) {
      inputLayernorm = addChildBlock("input_layernorm", new RmsNorm(cfg.hiddenSize(), cfg.rmsNormEps(), constants));
      selfAttn = addChildBlock("self_attn", new GroupedQueryAttention(cfg.attention(), constants));
      postAttentionLayernorm = addChildBlock("post_attention_layernorm", new RmsNorm(cfg.hiddenSize(), cfg.rmsNormEps(), constants));
      mlp = addChildBlock("mlp", new GatedMlp(cfg.hiddenSize(), cfg.intermediateSize(), GatedMlp.Activation.SILU, constants));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
      NDArray x = inputs.get(0);                                                  // (1, N, D)
      NDArray a = inputLayernorm.forward(ps, new NDList(x), training).head();
      NDList attnInputs = new NDList(a, inputs.get(1), inputs.get(2), inputs.get(3), inputs.get(4), inputs.get(5));
      x = x.add(selfAttn.forward(ps, attnInputs, training).head());
      x = TokenLayout.atOutputs(x, inputs, 6);                           // (1, N, D) or (P, D)
      NDArray m = postAttentionLayernorm.forward(ps, new NDList(x), training).head();
      return new NDList(x.add(mlp.forward(ps, new NDList(m), training).head()));  // (1, N, D) or (P, D)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
      return new Shape[] {inputShapes[0]};
    }
  }
}
