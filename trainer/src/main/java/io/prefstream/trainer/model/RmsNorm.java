package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Root-mean-square layer normalization (Zhang and Sennrich 2019, arXiv:1910.07467), as Llama uses it:
 * y = x / sqrt(mean(x²) + ε) · g, no shift and no mean subtraction.
 */
final class RmsNorm extends AbstractBlock {

  private final long size;
  private final NDArray eps; // a long-lived scalar: add(Number) on a graph array is unsafe on CPU
  private final Parameter gamma;

  RmsNorm(long size, float eps, NDManager constants) {
    this.size = size;
    this.eps = constants.create(eps);
    gamma = addParameter(Parameter.builder().setName("gamma").setType(Parameter.Type.GAMMA).build());
  }

  /** Declares {@code prefix + "weight"}, the scale g. */
  void declare(WeightTable.Builder table, String prefix) {
    table.add(prefix + "weight", gamma, new Shape(size));
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.head();                                                    // (..., C)
    NDArray g = ps.getValue(gamma, x.getDevice(), training);
    NDArray rms = x.mul(x).mean(new int[] {x.getShape().dimension() - 1}, true).add(eps).sqrt(); // (..., 1)
    return new NDList(x.div(rms).mul(g));                                         // (..., C)
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }
}
