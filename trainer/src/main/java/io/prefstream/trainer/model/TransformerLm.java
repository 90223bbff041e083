package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** A {@link CausalLm} made of an architecture block whose weights are set, on the manager that owns them. */
final class TransformerLm implements CausalLm {

  private final ModelConfig config;
  private final LmBlock block;
  private final NDManager manager;
  private final Optional<Path> sourceFolder;
  private final Map<String, NDArray> parameters;

  TransformerLm(ModelConfig config, LmBlock block, NDManager manager, Optional<Path> sourceFolder) {
    this.config = config;
    this.block = block;
    this.manager = manager;
    this.sourceFolder = sourceFolder;
    this.parameters = block.weights().arrays();
  }

  @Override
  public NDArray hiddenStates(TokenLayout layout, boolean training) {
    return hiddenStates(layout, liveParameters());
  }

  /** {@link #hiddenStates(TokenLayout, boolean)} with the weights {@code ps} hands out. */
  NDArray hiddenStates(TokenLayout layout, ParameterStore ps) {
    block.checkSpan(layout.span());
    TokenLayout here = layout.on(manager.getDevice());
    TokenLayout.Occupied occupied = here.occupied().orElseGet(() -> everySlot(here.tokenIds()));
    NDList inputs = new NDList(here.tokenIds(), here.positionIds(), here.visible(), occupied.tokenSlots(), occupied.slotTokens());
    here.outputs().ifPresent(slots -> inputs.add(occupied.slotTokens().get(slots))); // the output slots' tokens
    // DJL's training flag would make the blocks initialize themselves; they have no dropout to switch on
    return block.forward(ps, inputs, false).head();
  }

  /** Every slot holds a token: slot i is token i. */
  private static TokenLayout.Occupied everySlot(NDArray tokenIds) {
    NDArray slots = tokenIds.getManager().arange(0, tokenIds.size(), 1, DataType.INT64); // (R·T)
    return new TokenLayout.Occupied(slots, slots);
  }

  @Override
  public NDArray head(NDArray hidden, VocabSlice slice) {
    return head(hidden, slice, liveParameters());
  }

  NDArray head(NDArray hidden, VocabSlice slice, ParameterStore ps) {
    return block.head(ps, hidden, HeadLogits.plain(slice));
  }

  @Override
  public boolean headWeightLearns() {
    return block.headWeight().getArray().hasGradient();
  }

  @Override
  public HeadLogits trainingHead(NDArray hidden, VocabSlice slice) {
    return trainingHead(hidden, slice, liveParameters());
  }

  HeadLogits trainingHead(NDArray hidden, VocabSlice slice, ParameterStore ps) {
    HeadLogits head = HeadLogits.cutting(slice);
    return head.withLogits(block.head(ps, hidden, head));
  }

  @Override
  public Optional<WorkerModel> forWorker() {
    return Optional.of(new WorkerModel(this));
  }

  /** copy = false: the store hands out the live parameter arrays, so gradients reach them. */
  private ParameterStore liveParameters() {
    return new ParameterStore(manager, false);
  }

  WeightTable weights() {
    return block.weights();
  }

  @Override
  public Map<String, NDArray> parameters() {
    return parameters;
  }

  @Override
  public ModelConfig config() {
    return config;
  }

  @Override
  public Optional<Path> sourceFolder() {
    return sourceFolder;
  }

  @Override
  public NDManager manager() {
    return manager;
  }

  @Override
  public void close() {
    manager.close();
  }
}
