package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

/**
 * A frozen base model with LoRA adapters ({@link LowRankAdapter}) on its target projections. Its
 * {@link #parameters()} are the adapters' A and B alone, under PEFT's tensor names, so an optimizer
 * given them trains and stores the adapters only.
 *
 * <p>{@link #reference()} is the same base with the adapters switched off: DPO's frozen reference at
 * no extra memory, one copy of the base weights. The switch is the model's, so run one forward pass
 * at a time per model (the trainer does). For TR-DPO, {@link #addReferenceAdapter()} gives the
 * reference a second adapter of its own on the same base.
 */
public final class LoraModel extends BaseView {

  /** Where PEFT's PeftModel puts the task model: the start of every adapter tensor name. */
  static final String PEFT_PREFIX = "base_model.model.";

  private final LoraConfig lora;
  private final List<String> targets;
  private final Map<String, Projection> targetProjections = new LinkedHashMap<>(); // by full module name
  private final Map<String, NDArray> parameters = new LinkedHashMap<>();           // by PEFT tensor name
  private final Map<String, LowRankAdapter> lowRank = new LinkedHashMap<>();       // by full module name
  private final Map<String, NDArray> referenceParameters = new LinkedHashMap<>();  // the reference adapter's, by the same names
  private final CausalLm reference = new Reference();
  private final Switches switches = new Switches();

  private LoraModel(TransformerLm base, LoraConfig lora, long seed) {
    super(base);
    this.lora = lora;
    this.targets = lora.resolvedTargets(base.config());
    Random random = new Random(seed);
    NDManager adapters = base.manager().newSubManager();
    WeightTable weights = base.weights();
    weights.projections().forEach((module, projection) -> {
      String full = weights.fullModelPrefix() + module;
      if (LoraConfig.matches(full, targets)) {
        LowRankAdapter adapter = LowRankAdapter.init(projection, lora, random, adapters, switches);
        projection.attach(adapter);
        targetProjections.put(full, projection);
        lowRank.put(full, adapter);
        parameters.put(tensorName(full, "lora_A"), adapter.a());
        parameters.put(tensorName(full, "lora_B"), adapter.b());
      }
    });
    if (targetProjections.isEmpty()) {
      adapters.close();
      List<String> modules = weights.projections().keySet().stream().map(m -> weights.fullModelPrefix() + m).toList();
      throw new IllegalArgumentException("no module matches LoRA target_modules " + targets + "; this model's projections are " + modules);
    }
  }

  /**
   * Attaches fresh adapters (B = 0: the model computes exactly what {@code base} did) to {@code base},
   * which must come from {@link ModelFolder} and have no adapters yet. The LoRA model owns the base
   * from now on: closing it closes the base.
   *
   * @param seed seeds A's random init
   * @throws IllegalArgumentException when no projection of the base matches the target modules
   */
  public static LoraModel attach(CausalLm base, LoraConfig lora, long seed) {
    if (!(base instanceof TransformerLm transformer)) {
      throw new IllegalArgumentException("LoRA attaches to a model loaded or made by ModelFolder, not to a " + base.getClass().getSimpleName());
    }
    return new LoraModel(transformer, lora, seed);
  }

  /** PEFT's name of an adapter matrix, e.g. {@code base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight}. */
  static String tensorName(String fullModule, String matrix) {
    return PEFT_PREFIX + fullModule + "." + matrix + ".weight";
  }

  @Override
  public NDArray hiddenStates(TokenLayout layout, boolean training) {
    return switches.forward(true, false, training, () -> base.hiddenStates(layout, false));
  }

  @Override
  public NDArray head(NDArray hidden, VocabSlice slice) {
    return switches.forward(true, false, false, () -> base.head(hidden, slice));
  }

  /** The adapters' A and B by PEFT tensor name, live: training updates them in place. */
  @Override
  public Map<String, NDArray> parameters() {
    return Collections.unmodifiableMap(parameters);
  }

  /**
   * The reference: the base model with every adapter off, or, after {@link #addReferenceAdapter()},
   * the base with the reference adapter. It shares this model's weights and needs no closing.
   */
  public CausalLm reference() {
    return reference;
  }

  /**
   * Gives {@link #reference()} an adapter of its own on the same base, equal to this model's
   * adapters now (TR-DPO's reference, which follows the policy): a copy of every A and B, whose
   * {@code parameters()} carry the policy's tensor names and are never trained. What a sync mixes is
   * these factors, A_ref ← α·A + (1−α)·A_ref and B_ref ← α·B + (1−α)·B_ref, not their product
   * B·A, as a rank-r adapter cannot hold a mix of two rank-r products.
   *
   * @return the reference, now computing base + reference adapter
   */
  public CausalLm addReferenceAdapter() {
    if (!referenceParameters.isEmpty()) throw new IllegalStateException("the reference already has its own adapter");
    NDManager copies = base.manager().newSubManager();
    lowRank.forEach((full, adapter) -> {
      NDArray[] ab = adapter.addReference(copies);
      referenceParameters.put(tensorName(full, "lora_A"), ab[0]);
      referenceParameters.put(tensorName(full, "lora_B"), ab[1]);
    });
    return reference;
  }

  public LoraConfig lora() {
    return lora;
  }

  /** The target modules as attached, with {@code attention}/{@code mlp} spelled out: adapter_config.json's list. */
  public List<String> targetModules() {
    return new ArrayList<>(targets);
  }

  /** Whether the base is GPT-2, whose Conv1D projections PEFT marks {@code fan_in_fan_out}. */
  boolean fanInFanOut() {
    return targetProjections.values().stream().anyMatch(p -> p.layout() == Projection.Layout.IN_OUT);
  }

  /**
   * Folds every adapter into its base weight (W₀ + (α/r)·BA) and returns the base, now a plain model
   * holding the merged weights. This LoRA model must not be used afterwards.
   */
  public CausalLm mergeIntoBase() {
    targetProjections.values().forEach(Projection::mergeAdapter);
    targetProjections.clear();
    lowRank.clear();
    parameters.clear();
    return base;
  }

  @Override
  public void close() {
    base.close();
  }

  /** The adapters' mode, flipped around one forward pass. */
  private static final class Switches implements LowRankAdapter.Mode {
    private volatile boolean enabled = true;
    private volatile boolean referenceWeights;
    private volatile boolean training;

    /**
     * Runs one forward pass with the adapters on or off, with the policy's or the reference's
     * weights, in training or not; back to on, the policy's, not training, after.
     */
    NDArray forward(boolean adaptersOn, boolean referenceAdapter, boolean trainingPass, Supplier<NDArray> pass) {
      enabled = adaptersOn;
      referenceWeights = referenceAdapter;
      training = trainingPass;
      try {
        return pass.get();
      } finally {
        enabled = true;
        referenceWeights = false;
        training = false;
      }
    }

    @Override
    public boolean referenceWeights() {
      return referenceWeights;
    }

    @Override
    public boolean enabled() {
      return enabled;
    }

    @Override
    public boolean training() {
      return training;
    }
  }

  /** The base with the adapters off, or with the reference adapter once there is one. */
  private final class Reference extends BaseView {
    Reference() {
      super(LoraModel.this.base);
    }

    @Override
    public NDArray hiddenStates(TokenLayout layout, boolean training) {
      boolean own = !referenceParameters.isEmpty();
      return switches.forward(own, own, false, () -> base.hiddenStates(layout, false));
    }

    @Override
    public NDArray head(NDArray hidden, VocabSlice slice) {
      boolean own = !referenceParameters.isEmpty();
      return switches.forward(own, own, false, () -> base.head(hidden, slice));
    }

    /** The base's weights; with a reference adapter, that adapter's A and B under the policy's names (what a TR-DPO sync mixes). */
    @Override
    public Map<String, NDArray> parameters() {
      return referenceParameters.isEmpty() ? base.parameters() : Collections.unmodifiableMap(referenceParameters);
    }

    @Override
    public void close() {
      // the LoRA model owns the base
    }
  }
}
