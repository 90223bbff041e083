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

/**
 * Gemma 3's text model (Gemma Team 2025, arXiv:2503.19786), computing what Hugging Face's
 * {@code Gemma3ForCausalLM} computes, with dropout off:
 *
 * <pre>
 *   x = embed_tokens[ids] · √hidden_size
 *   for each layer:  x = x + post_attention_layernorm(self_attn(input_layernorm(x)))
 *                    x = x + post_feedforward_layernorm(mlp(pre_feedforward_layernorm(x)))
 *   logits = lm_head(norm(x))                      lm_head is embed_tokens (unscaled) when tied
 *   logits = c · tanh(logits / c)                  only when final_logit_softcapping c is set
 * </pre>
 *
 * <ul>
 *   <li>Every RMSNorm scales by (1 + w) ({@link RmsNorm.Gain#ONE_PLUS_WEIGHT}); q and k are
 *       normalized per head before the rotation, and scores are scaled by 1/√query_pre_attn_scalar.
 *   <li>Feed-forward: GeGLU with the tanh GELU ({@link GatedMlp}).
 *   <li>Two kinds of layer ({@code layer_types}): sliding-window layers see the last
 *       {@code sliding_window} keys and rotate by {@code rope_local_base_freq}; full-attention
 *       layers see every earlier key and rotate by {@code rope_theta} with {@code rope_scaling}.
 * </ul>
 *
 * <p>Checkpoint names: {@code model.embed_tokens, model.layers.{i}.{input_layernorm,
 * post_attention_layernorm, pre_feedforward_layernorm, post_feedforward_layernorm},
 * model.layers.{i}.self_attn.{q,k,v,o}_proj, model.layers.{i}.self_attn.{q,k}_norm,
 * model.layers.{i}.mlp.{gate,up,down}_proj, model.norm, lm_head} (+ {@code .weight}).
 */
final class Gemma3 extends AbstractBlock implements LmBlock {

  private final Gemma3Config cfg;
  private final Parameter embedTokens;       // (V, D)
  private final NDArray embedScale;          // √D
  private final List<Layer> layers;
  private final RmsNorm norm;
  private final Optional<Projection> lmHead; // (D) -> (V), only when untied
  private final RotaryEmbedding globalRotary;
  private final RotaryEmbedding localRotary;
  private final Optional<SoftCap> softCap;
  private final NDArray maskedScore;
  private final WeightTable weights;

  Gemma3(Gemma3Config cfg, NDManager constants) {
    this.cfg = cfg;
    embedTokens = addParameter(Parameter.builder().setName("embed_tokens").setType(Parameter.Type.WEIGHT).build());
    embedScale = constants.create((float) Math.sqrt(cfg.hiddenSize()));
    List<Layer> list = new ArrayList<>();
    for (int i = 0; i < cfg.numHiddenLayers(); i++) {
      list.add(addChildBlock("layers" + i, new Layer(cfg, cfg.layerTypes().get(i), constants)));
    }
    layers = List.copyOf(list);
    norm = addChildBlock("norm", newNorm(cfg, constants));
    lmHead = cfg.tieWordEmbeddings()
        ? Optional.empty()
        : Optional.of(addChildBlock("lm_head", new Projection(Projection.Layout.OUT_IN, cfg.hiddenSize(), cfg.vocabSize(), false)));
    globalRotary = new RotaryEmbedding(cfg.ropeTheta(), cfg.ropeScaling(), cfg.headDim(), constants);
    localRotary = new RotaryEmbedding(cfg.ropeLocalBaseFreq(), RopeScaling.NONE, cfg.headDim(), constants);
    softCap = cfg.finalLogitSoftcapping().isPresent()
        ? Optional.of(new SoftCap(cfg.finalLogitSoftcapping().getAsDouble(), constants))
        : Optional.empty();
    maskedScore = constants.create(Attention.MASKED_SCORE);
    weights = declareWeights();
  }

  private static RmsNorm newNorm(Gemma3Config cfg, NDManager constants) {
    return new RmsNorm(cfg.hiddenSize(), cfg.rmsNormEps(), RmsNorm.Gain.ONE_PLUS_WEIGHT, constants);
  }

  private WeightTable declareWeights() {
    WeightTable.Builder t = WeightTable.builder()
        .ignoring(name -> cfg.tieWordEmbeddings() && name.equals("lm_head.weight"));
    t.add("model.embed_tokens.weight", embedTokens, new Shape(cfg.vocabSize(), cfg.hiddenSize()));
    for (int i = 0; i < layers.size(); i++) {
      Layer layer = layers.get(i);
      String p = "model.layers." + i + ".";
      layer.inputLayernorm.declare(t, p + "input_layernorm.");
      layer.selfAttn.declare(t, p + "self_attn.");
      layer.postAttentionLayernorm.declare(t, p + "post_attention_layernorm.");
      layer.preFeedforwardLayernorm.declare(t, p + "pre_feedforward_layernorm.");
      layer.mlp.declare(t, p + "mlp.");
      layer.postFeedforwardLayernorm.declare(t, p + "post_feedforward_layernorm.");
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
    NDArray positionIds = inputs.get(1);                                          // (B, T) int64
    NDArray embedding = ps.getValue(embedTokens, ids.getDevice(), training);
    NDArray x = TokenEmbedding.lookup(ids, embedding).mul(embedScale);           // (B, T, D)
    NDArray fullBias = Attention.bias(inputs.get(2), maskedScore);               // (B, 1, T, T)
    NDArray slidingBias = Attention.slidingWindow(fullBias, positionIds, cfg.slidingWindow(), maskedScore); // (B, 1, T, T)
    NDList global = globalRotary.cosSin(positionIds);                            // cos, sin: (B, 1, T, hd)
    NDList local = localRotary.cosSin(positionIds);
    x = Attention.toTokens(x, inputs.get(3));                                     // (1, N, D)
    for (int i = 0; i < layers.size(); i++) {
      Layer layer = layers.get(i);
      boolean sliding = layer.type == Gemma3Config.LayerType.SLIDING;
      NDList rotary = sliding ? local : global;
      NDList layerInputs = new NDList(x, sliding ? slidingBias : fullBias, rotary.get(0), rotary.get(1), inputs.get(3), inputs.get(4));
      if (i == layers.size() - 1 && inputs.size() > 5) layerInputs.add(inputs.get(5)); // the output tokens
      x = layer.forward(ps, layerInputs, training).head();                       // (1, N, D); the last (P, D) with outputs
    }
    NDArray out = norm.forward(ps, new NDList(x), training).head();             // (1, N, D) or (P, D)
    Shape rows = ids.getShape();
    return new NDList(inputs.size() > 5 ? out : Attention.toRows(out, inputs.get(4), rows.get(0), rows.get(1))); // (B, T, D) or (P, D)
  }

  @Override
  public void checkSpan(long span) {
    // rotary positions have no hard limit, and sliding layers mask by position distance
  }

  @Override
  public NDArray head(ParameterStore ps, NDArray hidden, HeadLogits products) {
    NDArray logits = lmHead.isPresent()
        ? lmHead.get().asHead(ps, hidden, products)                              // (..., V)
        : products.project(hidden, ps.getValue(embedTokens, hidden.getDevice(), false)); // (..., V): x · embed_tokensᵀ
    return softCap.map(cap -> cap.apply(logits)).orElse(logits);
  }

  @Override
  public Parameter headWeight() {
    return lmHead.map(Projection::weight).orElse(embedTokens);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0].add(cfg.hiddenSize())};
  }

  /** c · tanh(z / c): logits squashed smoothly into (-c, c). */
  private static final class SoftCap {
    private final NDArray cap;
    private final NDArray inverse;

    SoftCap(double cap, NDManager constants) {
      this.cap = constants.create((float) cap);
      this.inverse = constants.create((float) (1 / cap));
    }

    NDArray apply(NDArray logits) {
      return logits.mul(inverse).tanh().mul(cap);
    }
  }

  /**
   * One sandwich-norm decoder layer. Inputs: x (B, T, D), its kind's mask bias (B, 1, T, T), cos and
   * sin (B or 1, 1, T, hd), optionally the output slots (P), where alone the feed-forward half then runs.
   */
  private static final class Layer extends AbstractBlock {
    private final Gemma3Config.LayerType type;
    private final RmsNorm inputLayernorm;
    private final GroupedQueryAttention selfAttn;
    private final RmsNorm postAttentionLayernorm;
    private final RmsNorm preFeedforwardLayernorm;
    private final GatedMlp mlp;
    private final RmsNorm postFeedforwardLayernorm;

    Layer(Gemma3Config cfg, Gemma3Config.LayerType type, NDManager constants) {
      this.type = type;
      inputLayernorm = addChildBlock("input_layernorm", newNorm(cfg, constants));
      selfAttn = addChildBlock("self_attn", new GroupedQueryAttention(cfg.attention(), constants));
      postAttentionLayernorm = addChildBlock("post_attention_layernorm", newNorm(cfg, constants));
      preFeedforwardLayernorm = addChildBlock("pre_feedforward_layernorm", newNorm(cfg, constants));
      mlp = addChildBlock("mlp", new GatedMlp(cfg.hiddenSize(), cfg.intermediateSize(), GatedMlp.Activation.GELU_TANH, constants));
      postFeedforwardLayernorm = addChildBlock("post_feedforward_layernorm", newNorm(cfg, constants));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
      NDArray x = inputs.get(0);                                                  // (1, N, D)
      NDArray a = inputLayernorm.forward(ps, new NDList(x), training).head();
      a = selfAttn.forward(ps, new NDList(a, inputs.get(1), inputs.get(2), inputs.get(3), inputs.get(4), inputs.get(5)), training).head();
      x = x.add(postAttentionLayernorm.forward(ps, new NDList(a), training).head());
      x = TokenLayout.atOutputs(x, inputs, 6);                           // (1, N, D) or (P, D)
      NDArray f = preFeedforwardLayernorm.forward(ps, new NDList(x), training).head();
      f = mlp.forward(ps, new NDList(f), training).head();
      return new NDList(x.add(postFeedforwardLayernorm.forward(ps, new NDList(f), training).head())); // (B, T, D)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
      return new Shape[] {inputShapes[0]};
    }
  }
}
