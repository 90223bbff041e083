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
 * GPT-2 (Radford et al. 2019, "Language Models are Unsupervised Multitask Learners"), computing what
 * Hugging Face's {@code GPT2LMHeadModel} computes, with dropout off:
 *
 * <pre>
 *   x = wte[ids] + wpe[0..T)                       learned absolute positions
 *   for each layer:  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))      pre-norm residual blocks
 *   logits = ln_f(x) · wteᵀ                         the head is tied to the token embedding
 * </pre>
 *
 * <p>Checkpoint names: {@code wte, wpe, h.{i}.ln_1, h.{i}.attn.c_attn, h.{i}.attn.c_proj, h.{i}.ln_2,
 * h.{i}.mlp.c_fc, h.{i}.mlp.c_proj, ln_f} (+ {@code .weight}/{@code .bias}), with or without the
 * {@code transformer.} prefix of the full model's state dict; projections are {@code Conv1D}, weights
 * stored [in, out]. The causal-mask buffers {@code h.{i}.attn.bias} and {@code .masked_bias} that old
 * exports carry are not weights and are ignored, as is a saved copy of the tied {@code lm_head.weight}.
 */
final class Gpt2 extends AbstractBlock implements LmBlock {

  private static final String PREFIX = "transformer.";
  private static final Pattern BUFFER = Pattern.compile("h\\.\\d+\\.attn\\.(bias|masked_bias)");

  private final Gpt2Config cfg;
  private final Parameter wte;               // (V, C) token embeddings; also the head when tied
  private final Parameter wpe;               // (P, C) position embeddings
  private final List<Layer> h;
  private final LayerNormalization lnF;
  private final Optional<Projection> lmHead; // (C) -> (V), only when the head is untied
  private final NDArray maskedScore;         // scalar Attention.MASKED_SCORE
  private final WeightTable weights;

  Gpt2(Gpt2Config cfg, NDManager constants) {
    this.cfg = cfg;
    wte = addParameter(Parameter.builder().setName("wte").setType(Parameter.Type.WEIGHT).build());
    wpe = addParameter(Parameter.builder().setName("wpe").setType(Parameter.Type.WEIGHT).build());
    List<Layer> layers = new ArrayList<>();
    for (int i = 0; i < cfg.nLayer(); i++) {
      layers.add(addChildBlock("h" + i, new Layer(cfg, constants)));
    }
    h = List.copyOf(layers);
    lnF = addChildBlock("ln_f", new LayerNormalization(cfg.nEmbd(), cfg.layerNormEps()));
    lmHead = cfg.tieWordEmbeddings()
        ? Optional.empty()
        : Optional.of(addChildBlock("lm_head", new Projection(Projection.Layout.OUT_IN, cfg.nEmbd(), cfg.vocabSize(), false)));
    maskedScore = constants.create(Attention.MASKED_SCORE);
    weights = declareWeights();
  }

  /** The weight-name table: every Hugging Face name this architecture reads and writes. */
  private WeightTable declareWeights() {
    WeightTable.Builder t = WeightTable.builder()
        .renaming(name -> name.startsWith(PREFIX) ? name.substring(PREFIX.length()) : name)
        .fullModelPrefix(PREFIX)
        .ignoring(name -> BUFFER.matcher(name).matches() || (cfg.tieWordEmbeddings() && name.equals("lm_head.weight")));
    t.add("wte.weight", wte, new Shape(cfg.vocabSize(), cfg.nEmbd()));
    t.add("wpe.weight", wpe, new Shape(cfg.nPositions(), cfg.nEmbd()));
    for (int i = 0; i < h.size(); i++) {
      Layer layer = h.get(i);
      String p = "h." + i + ".";
      layer.ln1.declare(t, p + "ln_1.");
      layer.attn.cAttn.declare(t, p + "attn.c_attn.");
      layer.attn.cProj.declare(t, p + "attn.c_proj.");
      layer.ln2.declare(t, p + "ln_2.");
      layer.mlp.cFc.declare(t, p + "mlp.c_fc.");
      layer.mlp.cProj.declare(t, p + "mlp.c_proj.");
    }
    lnF.declare(t, "ln_f.");
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
    NDArray positions = inputs.get(1);                                            // (B, T) int64
    NDArray tokenEmbedding = ps.getValue(wte, ids.getDevice(), training);
    NDArray x = TokenEmbedding.lookup(ids, tokenEmbedding)                        // (B, T, C)
        .add(TokenEmbedding.lookup(positions, ps.getValue(wpe, ids.getDevice(), training))); //  + (B, T, C)
    NDArray bias = Attention.bias(inputs.get(2), maskedScore);                   // (B, 1, T, T)
    NDArray tokenSlots = inputs.get(3);
    NDArray slotTokens = inputs.get(4);
    x = Attention.toTokens(x, tokenSlots);                                        // (1, N, C)
    for (int i = 0; i < h.size(); i++) {
      NDList layerInputs = new NDList(x, bias, tokenSlots, slotTokens);
      if (i == h.size() - 1 && inputs.size() > 5) layerInputs.add(inputs.get(5)); // the output tokens
      x = h.get(i).forward(ps, layerInputs, training).head();                    // (1, N, C); the last (P, C) with outputs
    }
    NDArray out = lnF.forward(ps, new NDList(x), training).head();              // (1, N, C) or (P, C)
    Shape rows = ids.getShape();
    return new NDList(inputs.size() > 5 ? out : Attention.toRows(out, slotTokens, rows.get(0), rows.get(1))); // (B, T, C) or (P, C)
  }

  @Override
  public void checkSpan(long span) {
    if (span > cfg.nPositions()) {
      throw new IllegalArgumentException("sequence of " + span + " tokens exceeds GPT-2's n_positions " + cfg.nPositions());
    }
  }

  @Override
  public NDArray head(ParameterStore ps, NDArray hidden, HeadLogits products) {
    return lmHead.isPresent()
        ? lmHead.get().asHead(ps, hidden, products)                              // (..., V)
        : products.project(hidden, ps.getValue(wte, hidden.getDevice(), false)); // (..., V): x · wteᵀ
  }

  @Override
  public Parameter headWeight() {
    return lmHead.map(Projection::weight).orElse(wte);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0].add(cfg.nEmbd())};
  }

  /** One pre-norm transformer block: x + attn(ln_1(x)), then + mlp(ln_2(x)), at the output slots if given. */
  private static final class Layer extends AbstractBlock {
    private final LayerNormalization ln1;
    private final SelfAttention attn;
    private final LayerNormalization ln2;
    private final Mlp mlp;

    Layer(Gpt2Config cfg, NDManager constants) {
      ln1 = addChildBlock("ln_1", new LayerNormalization(cfg.nEmbd(), cfg.layerNormEps()));
      attn = addChildBlock("attn", new SelfAttention(cfg, constants));
      ln2 = addChildBlock("ln_2", new LayerNormalization(cfg.nEmbd(), cfg.layerNormEps()));
      mlp = addChildBlock("mlp", new Mlp(cfg, constants));
    }

    /** Inputs: x (1, N, C), mask bias (B, 1, T, T), token slots (N), slot tokens (B·T)[, output tokens (P)]. */
    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
      NDArray x = inputs.get(0);                                                  // (1, N, C)
      NDArray a = ln1.forward(ps, new NDList(x), training).head();
      x = x.add(attn.forward(ps, new NDList(a, inputs.get(1), inputs.get(2), inputs.get(3)), training).head());
      x = TokenLayout.atOutputs(x, inputs, 4);                           // (1, N, C) or (P, C)
      NDArray m = ln2.forward(ps, new NDList(x), training).head();
      return new NDList(x.add(mlp.forward(ps, new NDList(m), training).head()));  // (1, N, C) or (P, C)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
      return new Shape[] {inputShapes[0]};
    }
  }

  /**
   * Causal multi-head self-attention: one c_attn projection to q, k, v; c_proj back. Inputs: x (1,
   * N, C), mask bias (B, 1, T, T), token slots (N), slot tokens (B·T): the projections run on the
   * tokens, attention on the rows.
   */
  private static final class SelfAttention extends AbstractBlock {
    private final long nHead;
    private final Projection cAttn; // (B, T, C) -> (B, T, 3C)
    private final Projection cProj; // (B, T, C) -> (B, T, C)
    private final NDArray scale;    // 1/√hs

    SelfAttention(Gpt2Config cfg, NDManager constants) {
      nHead = cfg.nHead();
      cAttn = addChildBlock("c_attn", new Projection(Projection.Layout.IN_OUT, cfg.nEmbd(), 3L * cfg.nEmbd(), true));
      cProj = addChildBlock("c_proj", new Projection(Projection.Layout.IN_OUT, cfg.nEmbd(), cfg.nEmbd(), true));
      scale = constants.create((float) (1.0 / Math.sqrt((double) cfg.nEmbd() / cfg.nHead())));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
      NDArray bias = inputs.get(1);                                               // (B, 1, T, T)
      Shape rows = bias.getShape();
      NDArray projected = cAttn.forward(ps, new NDList(inputs.get(0)), training).head(); // (1, N, 3C)
      NDList qkv = Attention.toRows(projected, inputs.get(3), rows.get(0), rows.get(2)).split(3, 2); // 3 × (B, T, C)
      NDArray q = Attention.splitHeads(qkv.get(0), nHead);                        // (B, nh, T, hs)
      NDArray k = Attention.splitHeads(qkv.get(1), nHead);                        // (B, nh, T, hs)
      NDArray v = Attention.splitHeads(qkv.get(2), nHead);                        // (B, nh, T, hs)
      NDArray y = Attention.scaledDotProduct(q, k, v, bias, scale);               // (B, nh, T, hs)
      NDArray merged = Attention.toTokens(Attention.mergeHeads(y), inputs.get(2)); // (1, N, C)
      return cProj.forward(ps, new NDList(merged), training);                     // (1, N, C)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
      return new Shape[] {inputShapes[0]};
    }
  }

  /** The feed-forward block: c_proj(gelu_new(c_fc(x))). */
  private static final class Mlp extends AbstractBlock {
    private final Projection cFc;   // (B, T, C) -> (B, T, 4C)
    private final Projection cProj; // (B, T, 4C) -> (B, T, C)
    private final GeluTanh geluNew;

    Mlp(Gpt2Config cfg, NDManager constants) {
      cFc = addChildBlock("c_fc", new Projection(Projection.Layout.IN_OUT, cfg.nEmbd(), cfg.nInner(), true));
      cProj = addChildBlock("c_proj", new Projection(Projection.Layout.IN_OUT, cfg.nInner(), cfg.nEmbd(), true));
      geluNew = new GeluTanh(constants);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
      NDArray u = cFc.forward(ps, inputs, training).head();                       // (B, T, 4C)
      return cProj.forward(ps, new NDList(geluNew.apply(u)), training);           // (B, T, C)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
      return inputShapes;
    }
  }
}
