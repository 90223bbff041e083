package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embeddings (Su et al. 2021, arXiv:2104.09864) in Hugging Face's rotate-half
 * convention: dimension i of a head pairs with i + d/2, not with its neighbour, and turns by
 * position · f_i, f_i = θ^(-2i/d) as {@link RopeScaling} scales it.
 */
final class RotaryEmbedding {

  private final int headDim;
  private final NDArray invFreq; // (1, hd/2)

  RotaryEmbedding(double theta, RopeScaling scaling, int headDim, NDManager constants) {
    this.headDim = headDim;
    double[] frequencies = scaling.inverseFrequencies(theta, headDim);
    float[] asFloat = new float[frequencies.length];
    for (int i = 0; i < asFloat.length; i++) {
      asFloat[i] = (float) frequencies[i];
    }
    invFreq = constants.create(asFloat, new Shape(1, asFloat.length));
  }

  /**
   * cos and sin of position · f, each frequency repeated over both halves as rotate-half expects.
   *
   * @param positionIds (B, T) int64, each token's position in its own sequence (B may be 1 for a batch that shares them)
   * @return cos and sin, (B, 1, T, hd) each
   */
  NDList cosSin(NDArray positionIds) {
    long b = positionIds.getShape().get(0);
    long t = positionIds.getShape().get(1);
    NDArray positions = positionIds.toType(DataType.FLOAT32, false).reshape(b, t, 1); // (B, T, 1)
    NDArray angles = positions.matMul(invFreq);                                   // (B, T, hd/2)
    NDArray both = NDArrays.concat(new NDList(angles, angles), 2).reshape(b, 1, t, headDim); // (B, 1, T, hd)
    return new NDList(both.cos(), both.sin());
  }

  /** x·cos + rotate_half(x)·sin, rotate_half(x) = [-x₂, x₁]; x (B, h, T, hd), cos and sin (B or 1, 1, T, hd) from {@link #cosSin}. */
  static NDArray rotate(NDArray x, NDArray cos, NDArray sin) {
    long half = x.getShape().get(3) / 2;
    NDArray x1 = x.get(new NDIndex("..., :{}", half));                           // (B, h, T, hd/2)
    NDArray x2 = x.get(new NDIndex("..., {}:", half));                           // (B, h, T, hd/2)
    NDArray rotated = NDArrays.concat(new NDList(x2.neg(), x1), 3);              // (B, h, T, hd)
    return x.mul(cos).add(rotated.mul(sin));
  }
}
