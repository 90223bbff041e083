package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.Optional;

/**
 * Causal grouped-query self-attention (Ainslie et al. 2023, arXiv:2305.13245) with rotary positions
 * on q and k, as the Llama, Qwen and Gemma families compute it: num_key_value_heads k/v heads, each
 * shared by num_attention_heads / num_key_value_heads query heads. Qwen3 and Gemma 3 also RMS-normalize
 * each head's q and k ({@code q_norm}, {@code k_norm}) before the rotation.
 *
 * <p>Inputs: x (1, N, D) the tokens, the additive mask bias (B, 1, T, T), cos and sin (B or 1, 1, T,
 * hd), token slots (N) and slot tokens (B·T) ({@link TokenLayout.Occupied}): the projections run on
 * the tokens, attention on the rows.
 */
final class GroupedQueryAttention extends AbstractBlock {

  /**
   * The sizes and options of one attention block.
   *
   * @param qkvBias whether q_proj, k_proj and v_proj have biases
   * @param oBias whether o_proj has a bias
   * @param qkNorm the gain of the per-head q/k RMSNorm; empty when there is none
   * @param scale the factor on q·k, 1/√head_dim unless the architecture says otherwise
   */
  record Spec(int hidden, int heads, int kvHeads, int headDim, boolean qkvBias, boolean oBias,
      Optional<RmsNorm.Gain> qkNorm, float rmsNormEps, double scale) {}

  private final long nHead;
  private final long nKvHead;
  private final long headDim;
  private final Projection qProj; // (B, T, D) -> (B, T, nh·hd)
  private final Projection kProj; // (B, T, D) -> (B, T, nkv·hd)
  private final Projection vProj; // (B, T, D) -> (B, T, nkv·hd)
  private final Projection oProj; // (B, T, nh·hd) -> (B, T, D)
  private final Optional<RmsNorm> qNorm; // over hd, per head
  private final Optional<RmsNorm> kNorm;
  private final NDArray scale;

  GroupedQueryAttention(Spec spec, NDManager constants) {
    nHead = spec.heads();
    nKvHead = spec.kvHeads();
    headDim = spec.headDim();
    long d = spec.hidden();
    qProj = addChildBlock("q_proj", new Projection(Projection.Layout.OUT_IN, d, nHead * headDim, spec.qkvBias()));
    kProj = addChildBlock("k_proj", new Projection(Projection.Layout.OUT_IN, d, nKvHead * headDim, spec.qkvBias()));
    vProj = addChildBlock("v_proj", new Projection(Projection.Layout.OUT_IN, d, nKvHead * headDim, spec.qkvBias()));
    oProj = addChildBlock("o_proj", new Projection(Projection.Layout.OUT_IN, nHead * headDim, d, spec.oBias()));
    qNorm = spec.qkNorm().map(gain -> addChildBlock("q_norm", new RmsNorm(headDim, spec.rmsNormEps(), gain, constants)));
    kNorm = spec.qkNorm().map(gain -> addChildBlock("k_norm", new RmsNorm(headDim, spec.rmsNormEps(), gain, constants)));
    scale = constants.create((float) spec.scale());
  }

  /** Declares the projections (and q/k norms) under {@code prefix}, e.g. {@code model.layers.0.self_attn.}. */
  void declare(WeightTable.Builder table, String prefix) {
    qProj.declare(table, prefix + "q_proj.");
    kProj.declare(table, prefix + "k_proj.");
    vProj.declare(table, prefix + "v_proj.");
    oProj.declare(table, prefix + "o_proj.");
    qNorm.ifPresent(norm -> norm.declare(table, prefix + "q_norm."));
    kNorm.ifPresent(norm -> norm.declare(table, prefix + "k_norm."));
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDList x = new NDList(inputs.get(0));                                       // (1, N, D)
    NDArray bias = inputs.get(1);                                               // (B, 1, T, T)
    NDArray cos = inputs.get(2);                                                // (B or 1, 1, T, hd)
    NDArray sin = inputs.get(3);                                                // (B or 1, 1, T, hd)
    NDArray q = Attention.splitHeads(rows(qProj.forward(ps, x, training).head(), inputs), nHead);   // (B, nh, T, hd)
    NDArray k = Attention.splitHeads(rows(kProj.forward(ps, x, training).head(), inputs), nKvHead); // (B, nkv, T, hd)
    NDArray v = Attention.splitHeads(rows(vProj.forward(ps, x, training).head(), inputs), nKvHead); // (B, nkv, T, hd)
    q = RotaryEmbedding.rotate(normalized(qNorm, q, ps, training), cos, sin);
    k = RotaryEmbedding.rotate(normalized(kNorm, k, ps, training), cos, sin);
    NDArray y = Attention.scaledDotProduct(q, repeatKv(k), repeatKv(v), bias, scale); // (B, nh, T, hd)
    NDArray merged = Attention.toTokens(Attention.mergeHeads(y), inputs.get(4)); // (1, N, nh·hd)
    return oProj.forward(ps, new NDList(merged), training);                     // (1, N, D)
  }

  /** A projection of the tokens, (1, N, C), into the rows attention runs on, (B, T, C). */
  private static NDArray rows(NDArray projected, NDList inputs) {
    Shape s = inputs.get(1).getShape();                                         // (B, 1, T, T)
    return Attention.toRows(projected, inputs.get(5), s.get(0), s.get(2));
  }

  private static NDArray normalized(Optional<RmsNorm> norm, NDArray x, ParameterStore ps, boolean training) {
    return norm.isEmpty() ? x : norm.get().forward(ps, new NDList(x), training).head();
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
