package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** Layer normalization over the last axis with a learned scale and shift (Ba et al. 2016, arXiv:1607.06450). */
final class LayerNormalization extends AbstractBlock {

  private final long size;
  private final float eps;
  private final Parameter gamma;
  private final Parameter beta;

  LayerNormalization(long size, float eps) {
    this.size = size;
    this.eps = eps;
    gamma = addParameter(Parameter.builder().setName("gamma").setType(Parameter.Type.GAMMA).build());
    beta = addParameter(Parameter.builder().setName("beta").setType(Parameter.Type.BETA).build());
  }

  /** Declares {@code prefix + "weight"} (the scale) and {@code prefix + "bias"} (the shift). */
  void declare(WeightTable.Builder table, String prefix) {
    table.add(prefix + "weight", gamma, new Shape(size)).add(prefix + "bias", beta, new Shape(size));
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.head();                                                    // (..., C)
    NDArray g = ps.getValue(gamma, x.getDevice(), training);
    NDArray b = ps.getValue(beta, x.getDevice(), training);
    return LayerNorm.layerNorm(x, new Shape(size), g, b, eps);                    // (..., C)
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }
}
