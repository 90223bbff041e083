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
 * Root-mean-square layer normalization (Zhang and Sennrich 2019, arXiv:1910.07467):
 * y = x / sqrt(mean(x²) + ε) · g, no shift and no mean subtraction. Llama stores the gain g itself;
 * Gemma stores w with g = 1 + w, so its weights start at 0.
 */
final class RmsNorm extends AbstractBlock {

  /** How the stored weight w becomes the gain g. */
  enum Gain {
    /** g = w (Llama, Qwen). */
    WEIGHT,
    /** g = 1 + w (Gemma). */
    ONE_PLUS_WEIGHT
  }

  private final long size;
  private final Gain gain;
  private final NDArray eps; // long-lived scalars: add(Number) on a graph array is unsafe on CPU
  private final NDArray one;
  private final Parameter weight;

  RmsNorm(long size, float eps, NDManager constants) {
    this(size, eps, Gain.WEIGHT, constants);
  }

  RmsNorm(long size, float eps, Gain gain, NDManager constants) {
    this.size = size;
    this.gain = gain;
    this.eps = constants.create(eps);
    this.one = constants.create(1f);
    // GAMMA initializes to 1 and OTHER to 0: either way the initial gain is 1
    Parameter.Type type = gain == Gain.WEIGHT ? Parameter.Type.GAMMA : Parameter.Type.OTHER;
    weight = addParameter(Parameter.builder().setName("weight").setType(type).build());
  }

  /** Declares {@code prefix + "weight"}, the stored w. */
  void declare(WeightTable.Builder table, String prefix) {
    table.add(prefix + "weight", weight, new Shape(size));
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.head();                                                    // (..., C)
    NDArray w = ps.getValue(weight, x.getDevice(), training);                     // (C)
    NDArray g = gain == Gain.WEIGHT ? w : w.add(one);                             // (C)
    NDArray rms = x.mul(x).mean(new int[] {x.getShape().dimension() - 1}, true).add(eps).sqrt(); // (..., 1)
    return new NDList(x.div(rms).mul(g));                                         // (..., C)
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }
}
