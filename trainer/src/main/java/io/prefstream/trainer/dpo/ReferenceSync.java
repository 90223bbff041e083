package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.prefstream.trainer.model.CausalLm;
import java.util.Map;

/**
 * TR-DPO's reference that follows the policy slowly (Gorbatovski et al. 2024, "Learn Your
 * Reference Model for Real Good Alignment", arXiv:2404.09656, soft update): every
 * {@code syncSteps} optimizer steps,
 *
 * <pre>
 *   θ_ref ← α·θ + (1 − α)·θ_ref
 * </pre>
 *
 * for every trainable tensor θ of the policy and its namesake in the reference, as TRL's
 * {@code SyncRefModelCallback} (names and defaults of TRL's {@code DPOConfig}: sync_ref_model off,
 * ref_model_mixup_alpha 0.6, ref_model_sync_steps 512). With LoRA the tensors are the adapters' A
 * and B, mixed factor by factor (see {@code LoraModel#addReferenceAdapter}).
 *
 * @param mixupAlpha α in [0, 1]: the policy's share of the new reference
 * @param syncSteps the reference is mixed after every this many optimizer steps
 */
public record ReferenceSync(double mixupAlpha, int syncSteps) {

  public ReferenceSync {
    if (!(mixupAlpha >= 0 && mixupAlpha <= 1)) throw new IllegalArgumentException("ref model mixup alpha must be in [0, 1], got " + mixupAlpha);
    if (syncSteps < 1) throw new IllegalArgumentException("ref model sync steps must be >= 1, got " + syncSteps);
  }

  /** TRL's defaults: α = 0.6 every 512 steps. */
  public static ReferenceSync trlDefaults() {
    return new ReferenceSync(0.6, 512);
  }

  /**
   * Checks that the reference has a tensor of the same name and shape for each of the policy's
   * trainable ones, so that a sync can never fail halfway.
   *
   * @throws IllegalArgumentException naming the first tensor that does not match
   */
  public static void checkMatches(CausalLm policy, CausalLm reference) {
    Map<String, NDArray> targets = reference.parameters();
    policy.parameters().forEach((name, p) -> {
      NDArray r = targets.get(name);
      if (r == null) throw new IllegalArgumentException("the reference has no " + name + " to follow the policy's (TR-DPO needs the same architecture)");
      if (!r.getShape().equals(p.getShape())) {
        throw new IllegalArgumentException("the reference's " + name + " has shape " + r.getShape() + ", the policy's " + p.getShape());
      }
    });
  }

  /**
   * Mixes the policy into the reference in place when {@code step} is a multiple of
   * {@code syncSteps}.
   *
   * @param step optimizer steps taken so far, this one included (TRL's global_step)
   * @return whether it mixed
   */
  public boolean mixIfDue(long step, CausalLm policy, CausalLm reference) {
    if (step % syncSteps != 0) return false;
    Map<String, NDArray> targets = reference.parameters();
    // the scope frees the scalars and products, which land on the weights' manager
    try (NDScope scope = new NDScope(); NDManager scalars = reference.manager().newSubManager()) {
      NDArray alpha = scalars.create((float) mixupAlpha); // scalar arrays: mul(Number) on arrays with a gradient is unsafe on CPU
      NDArray keep = scalars.create((float) (1 - mixupAlpha));
      policy.parameters().forEach((name, p) -> {
        NDArray r = targets.get(name);
        r.muli(keep).addi(p.toDevice(r.getDevice(), false).mul(alpha));
      });
    }
    return true;
  }
}
