package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Gated feed-forward (Shazeer 2020, arXiv:2002.05202): down_proj(act(gate_proj(x)) ⊙ up_proj(x)).
 * SwiGLU with silu (Llama, Qwen); GeGLU with the tanh GELU (Gemma).
 */
final class GatedMlp extends AbstractBlock {

  /** The gate's activation, by config.json name. */
  enum Activation {
    SILU("silu"),
    GELU_TANH("gelu_pytorch_tanh");

    final String configName;

    Activation(String configName) {
      this.configName = configName;
    }
  }

  private final Activation activation;
  private final Projection gateProj; // (B, T, D) -> (B, T, I)
  private final Projection upProj;   // (B, T, D) -> (B, T, I)
  private final Projection downProj; // (B, T, I) -> (B, T, D)
  private final GeluTanh gelu;

  GatedMlp(long hidden, long intermediate, Activation activation, NDManager constants) {
    this.activation = activation;
    gateProj = addChildBlock("gate_proj", new Projection(Projection.Layout.OUT_IN, hidden, intermediate, false));
    upProj = addChildBlock("up_proj", new Projection(Projection.Layout.OUT_IN, hidden, intermediate, false));
    downProj = addChildBlock("down_proj", new Projection(Projection.Layout.OUT_IN, intermediate, hidden, false));
    gelu = new GeluTanh(constants);
  }

  /** Declares {@code prefix + "gate_proj."}, {@code "up_proj."} and {@code "down_proj."}. */
  void declare(WeightTable.Builder table, String prefix) {
    gateProj.declare(table, prefix + "gate_proj.");
    upProj.declare(table, prefix + "up_proj.");
    downProj.declare(table, prefix + "down_proj.");
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray gate = gateProj.forward(ps, inputs, training).head();              // (B, T, I)
    NDArray up = upProj.forward(ps, inputs, training).head();                  // (B, T, I)
    NDArray act = switch (activation) {
      case SILU -> gate.mul(ai.djl.nn.Activation.sigmoid(gate));                 // silu(g) = g·σ(g)
      case GELU_TANH -> gelu.apply(gate);
    };
    return downProj.forward(ps, new NDList(act.mul(up)), training);             // (B, T, D)
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return inputShapes;
  }
}
