package io.prefstream.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A model for one worker thread of a data-parallel step (see {@link CausalLm#forWorker}): it computes
 * with its base's weights, read in place, but each weight that needs a gradient reaches the graph
 * as an alias of its own, a detached leaf on the same storage, so backward accumulates into the
 * alias's {@code .grad}, never into the base's.
 *
 * <p>Two threads adding into one {@code .grad} would race: PyTorch's own accumulation locks per
 * variable, but the in-place adds of {@link HeadLogits} and the order of either are not fixed. Here
 * each worker's gradient is a sum in its own fixed order, and {@link #addGradientsToBase} adds it
 * into the base's when the workers are done, in the order the caller chooses: the update is the
 * same bit for bit from run to run.
 *
 * <p>Use it from one thread; close it after its gradients are added (that frees them).
 */
public final class WorkerModel extends BaseView {
  private final NDManager aliasManager;
  private final Map<Parameter, NDArray> aliases = new IdentityHashMap<>();
  private final Map<String, NDArray> parameters = new LinkedHashMap<>();

  WorkerModel(TransformerLm base) {
    super(base);
    this.aliasManager = base.manager().newSubManager();
    base.weights().weights().forEach((name, weight) -> {
      NDArray live = weight.parameter().getArray();
      if (!live.hasGradient()) return;
      NDArray alias = live.stopGradient(); // a view of the same storage, cut from the live one's gradient
      alias.attach(aliasManager);
      alias.setRequiresGradient(true);
      aliases.put(weight.parameter(), alias);
      parameters.put(name, alias);
    });
  }

  @Override
  public NDArray hiddenStates(TokenLayout layout, boolean training) {
    return base.hiddenStates(layout, new AliasStore());
  }

  @Override
  public NDArray head(NDArray hidden, VocabSlice slice) {
    return base.head(hidden, slice, new AliasStore());
  }

  @Override
  public boolean headWeightLearns() {
    return base.headWeightLearns();
  }

  @Override
  public HeadLogits trainingHead(NDArray hidden, VocabSlice slice) {
    return base.trainingHead(hidden, slice, new AliasStore());
  }

  /** The aliases of the base's trainable weights, by name: their gradients are this worker's. */
  @Override
  public Map<String, NDArray> parameters() {
    return Collections.unmodifiableMap(parameters);
  }

  /** Adds this worker's gradient of every weight into the base weight's gradient (once its backward passes are done). */
  public void addGradientsToBase() {
    Map<String, NDArray> live = base.parameters();
    parameters.forEach((name, alias) -> {
      PtNDArray gradient = JniUtils.getGradient((PtNDArray) alias);
      if (gradient == null) return; // the worker's examples never reached it
      try (gradient; NDArray target = DenseGradient.of(live.get(name))) {
        target.addi(gradient);
      }
    });
  }

  /** Frees the aliases and their gradients; the base's weights stay. */
  @Override
  public void close() {
    aliasManager.close();
  }

  /** Hands out the aliases instead of the trainable weights, the other weights as they are. */
  private final class AliasStore extends ParameterStore {
    AliasStore() {
      super(base.manager(), false);
    }

    @Override
    public NDArray getValue(Parameter parameter, Device device, boolean training) {
      NDArray alias = aliases.get(parameter);
      return alias != null ? alias : super.getValue(parameter, device, training);
    }
  }
}
