package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.Optional;

/**
 * An affine map on the last axis, in either of the two layouts Hugging Face checkpoints use:
 * {@link Layout#OUT_IN} is {@code torch.nn.Linear} (y = x Wᵀ + b, W stored [out, in]);
 * {@link Layout#IN_OUT} is GPT-2's {@code Conv1D} (y = x W + b, W stored [in, out]). A
 * {@link LowRankAdapter} may be attached; while it is enabled it adds its update to y.
 */
final class Projection extends AbstractBlock {

  enum Layout {
    OUT_IN,
    IN_OUT
  }

  private final Layout layout;
  private final long in;
  private final long out;
  private final Parameter weight;
  private final Optional<Parameter> bias;
  private LowRankAdapter adapter;

  Projection(Layout layout, long in, long out, boolean hasBias) {
    this.layout = layout;
    this.in = in;
    this.out = out;
    weight = addParameter(Parameter.builder().setName("weight").setType(Parameter.Type.WEIGHT).build());
    bias = hasBias
        ? Optional.of(addParameter(Parameter.builder().setName("bias").setType(Parameter.Type.BIAS).build()))
        : Optional.empty();
  }

  /** Declares {@code prefix + "weight"} (and {@code prefix + "bias"}) with their stored shapes. */
  void declare(WeightTable.Builder table, String prefix) {
    table.add(prefix + "weight", weight, layout == Layout.OUT_IN ? new Shape(out, in) : new Shape(in, out));
    bias.ifPresent(b -> table.add(prefix + "bias", b, new Shape(out)));
    table.addProjection(prefix.substring(0, prefix.length() - 1), this);
  }

  long in() {
    return in;
  }

  long out() {
    return out;
  }

  Layout layout() {
    return layout;
  }

  void attach(LowRankAdapter lowRank) {
    if (adapter != null) throw new IllegalStateException("this projection already has an adapter");
    adapter = lowRank;
  }

  /**
   * Folds the attached adapter into W (W₀ + (α/r)·BA, transposed for the [in, out] layout) and
   * detaches it: the merged projection computes what base + adapter computed.
   */
  void mergeAdapter() {
    NDArray delta = adapter.weightDelta();                                        // (out, in)
    weight.getArray().addi(layout == Layout.OUT_IN ? delta : delta.transpose());
    delta.close();
    adapter = null;
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.head();                                                    // (..., in)
    NDArray w = ps.getValue(weight, x.getDevice(), training);
    NDArray b = bias.map(p -> ps.getValue(p, x.getDevice(), training)).orElse(null);
    // one addmm with the bias, not a matmul and a separate pass adding it; [in, out] as a transposed view
    NDArray y = Linear.linear(x, layout == Layout.OUT_IN ? w : w.transpose(), b).head(); // (..., out)
    return new NDList(adapter != null && adapter.enabled() ? y.add(adapter.update(x)) : y);
  }

  /** W, (out, in) or (in, out) as the layout says. */
  Parameter weight() {
    return weight;
  }

  /**
   * This projection as the LM head (OUT_IN, no bias): its product with W's rows of the head's
   * vocabulary slice through {@code products}, which may give it its own backward, the adapter's
   * update of those outputs, if enabled, on top.
   */
  NDArray asHead(ParameterStore ps, NDArray x, HeadLogits products) {
    if (layout != Layout.OUT_IN || bias.isPresent()) throw new IllegalStateException("an LM head is an OUT_IN projection without bias");
    NDArray y = products.project(x, ps.getValue(weight, x.getDevice(), false)); // (..., |slice|)
    return adapter != null && adapter.enabled() ? y.add(adapter.headUpdate(x, products.slice())) : y;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape s = inputShapes[0];
    return new Shape[] {s.slice(0, s.dimension() - 1).add(out)};
  }
}
