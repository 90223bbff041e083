package io.prefstream.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Optional;

/**
 * What a forward pass needs besides the weights: which token sits in each slot of a (B, T) batch,
 * the position each slot's token has in its own sequence, and which slots each slot may attend to.
 * A plain right-padded batch is one sequence a row ({@link #padded}); a row may also hold a prompt
 * once, followed by several responses that each see the prompt and themselves only, each starting
 * at the prompt's length: the prompt is then computed once for all of them.
 *
 * @param tokenIds (B, T) int64
 * @param positionIds (B, T) int64: each token's position in its own sequence (0 on padding)
 * @param visible (B, T, T) boolean: query slot i may attend to key slot j. A query sees itself
 *     unless it is padding; padding is never seen.
 * @param span the largest position id + 1: the longest sequence, which the architecture must accept
 * @param outputs (P) int64 flat slots (row·T + column) whose final hidden states are wanted, in
 *     increasing order; empty: every slot. With outputs, the last layer runs its feed-forward half
 *     at those slots only: every other slot's last-layer state feeds nothing, since attention reads
 *     its keys and values before that half.
 * @param occupied which slots hold a token, when not all do: the model then computes everything but
 *     attention on those tokens alone, never on padding; empty: every slot, padding too
 */
public record TokenLayout(
    NDArray tokenIds, NDArray positionIds, NDArray visible, long span, Optional<NDArray> outputs, Optional<Occupied> occupied) {

  /**
   * The slots that hold the layout's N tokens, in both directions. Attention runs on the (R, T) rows
   * (its masks are per row); projections, norms, feed-forward halves and residual adds run on the
   * (N) tokens, gathered out of the rows after the embedding and into them again before each
   * attention.
   *
   * @param tokenSlots (N) int64 the flat slot (row·T + column) of each token, increasing
   * @param slotTokens (R·T) int64 the index in {@code tokenSlots} of each slot's token; at a padding
   *     slot any token's (a padding slot's keys are masked and its outputs never read, so its
   *     gradient is zero)
   */
  public record Occupied(NDArray tokenSlots, NDArray slotTokens) {
    public Occupied {
      if (tokenSlots.getShape().dimension() != 1 || slotTokens.getShape().dimension() != 1
          || tokenSlots.getDataType() != DataType.INT64 || slotTokens.getDataType() != DataType.INT64) {
        throw new IllegalArgumentException("token slots " + tokenSlots.getShape() + " and slot tokens " + slotTokens.getShape() + " must be 1-D int64");
      }
    }
  }

  /** A layout whose every slot's hidden state is wanted. */
  public TokenLayout(NDArray tokenIds, NDArray positionIds, NDArray visible, long span) {
    this(tokenIds, positionIds, visible, span, Optional.empty(), Optional.empty());
  }

  public TokenLayout {
    Shape s = tokenIds.getShape();
    if (s.dimension() != 2 || !positionIds.getShape().equals(s)
        || !visible.getShape().equals(new Shape(s.get(0), s.get(1), s.get(1)))) {
      throw new IllegalArgumentException("token ids " + s + " and position ids " + positionIds.getShape()
          + " must be (B, T) and the visibility " + visible.getShape() + " (B, T, T)");
    }
    if (outputs.isPresent() && (outputs.get().getShape().dimension() != 1 || outputs.get().getDataType() != DataType.INT64)) {
      throw new IllegalArgumentException("output slots must be (P) int64, got " + outputs.get().getShape() + " " + outputs.get().getDataType());
    }
    if (occupied.isPresent() && occupied.get().slotTokens().size() != s.size()) {
      throw new IllegalArgumentException("slot tokens " + occupied.get().slotTokens().getShape() + " must cover the " + s + " slots");
    }
    if (tokenIds.getDataType() != DataType.INT64 || positionIds.getDataType() != DataType.INT64) {
      throw new IllegalArgumentException(
          "token and position ids must be int64, got " + tokenIds.getDataType() + " and " + positionIds.getDataType());
    }
  }

  /**
   * One sequence a row, right-padded: positions 0..T-1, causal attention to real tokens.
   *
   * @param attentionMask (B, T) int64, 1 for real tokens, 0 for padding
   */
  public static TokenLayout padded(NDArray tokenIds, NDArray attentionMask) {
    if (tokenIds.getShape().dimension() != 2 || !tokenIds.getShape().equals(attentionMask.getShape())) {
      throw new IllegalArgumentException(
          "token ids " + tokenIds.getShape() + " and attention mask " + attentionMask.getShape() + " must both be (B, T)");
    }
    if (attentionMask.getDataType() != DataType.INT64) {
      throw new IllegalArgumentException("the attention mask must be int64, got " + attentionMask.getDataType());
    }
    long b = tokenIds.getShape().get(0);
    long t = tokenIds.getShape().get(1);
    NDManager m = tokenIds.getManager();
    NDArray position = m.arange(0, t, 1, DataType.INT64);                        // (T)
    NDArray causal = position.reshape(t, 1).gte(position.reshape(1, t));          // (T, T): key j <= query i
    NDArray realKey = attentionMask.toType(DataType.BOOLEAN, false).reshape(b, 1, t); // (B, 1, T)
    NDArray visible = realKey.logicalAnd(causal.reshape(1, t, t));                // (B, T, T)
    return new TokenLayout(tokenIds, position.reshape(1, t).broadcast(b, t), visible, t);
  }

  /**
   * The layout on {@code device}: this one if it is there, else copies on a sub-manager of the
   * token ids' manager (results belong to their first input's manager, so the pass's arrays are
   * then freed with the caller's).
   */
  TokenLayout on(Device device) {
    if (tokenIds.getDevice().equals(device)) return this;
    NDManager onDevice = tokenIds.getManager().newSubManager(device);
    NDArray[] moved = {tokenIds, positionIds, visible, outputs.orElse(null),
        occupied.map(Occupied::tokenSlots).orElse(null), occupied.map(Occupied::slotTokens).orElse(null)};
    for (int i = 0; i < moved.length; i++) {
      if (moved[i] == null) continue;
      moved[i] = moved[i].toDevice(device, true);
      moved[i].attach(onDevice);
    }
    return new TokenLayout(moved[0], moved[1], moved[2], span, Optional.ofNullable(moved[3]),
        occupied.map(o -> new Occupied(moved[4], moved[5])));
  }

  /**
   * The rows of a (B, T, D) layer state at the output slots, (P, D), when a layer's inputs carry them
   * at {@code index}; else the state itself. The gather is differentiable: backward scatters into
   * the slots taken.
   */
  static NDArray atOutputs(NDArray state, NDList layerInputs, int index) {
    if (layerInputs.size() <= index) return state;
    Shape s = state.getShape();
    return state.reshape(s.get(0) * s.get(1), s.get(2)).get(layerInputs.get(index)); // (P, D)
  }
}
