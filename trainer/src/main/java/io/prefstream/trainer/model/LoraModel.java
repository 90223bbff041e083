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
 * at a time per model (the trainer does).
 */
public final class LoraModel extends BaseView {

  /** Where PEFT's PeftModel puts the task model: the start of every adapter tensor name. */
  static final String PEFT_PREFIX = "base_model.model.";

  private final LoraConfig lora;
  private final List<String> targets;
  private final Map<String, Projection> targetProjections = new LinkedHashMap<>(); // by full module name
  private final Map<String, NDArray> parameters = new LinkedHashMap<>();           // by PEFT tensor name
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
    return switches.forward(true, training, () -> base.hiddenStates(layout, false));
  }

  @Override
  public NDArray head(NDArray hidden) {
    return switches.forward(true, false, () -> base.head(hidden));
  }

  /** The adapters' A and B by PEFT tensor name, live: training updates them in place. */
  @Override
  public Map<String, NDArray> parameters() {
    return Collections.unmodifiableMap(parameters);
  }

  /** The base model with every adapter off; it shares this model's weights and needs no closing. */
  public CausalLm reference() {
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
    private volatile boolean training;

    /** Runs one forward pass with the adapters on or off, in training or not; back to on, not training, after. */
    NDArray forward(boolean adaptersOn, boolean trainingPass, Supplier<NDArray> pass) {
      enabled = adaptersOn;
      training = trainingPass;
      try {
        return pass.get();
      } finally {
        enabled = true;
        training = false;
      }
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

  /** The base with the adapters off. */
  private final class Reference extends BaseView {
    Reference() {
      super(LoraModel.this.base);
    }

    @Override
    public NDArray hiddenStates(TokenLayout layout, boolean training) {
      return switches.forward(false, false, () -> base.hiddenStates(layout, false));
    }

    @Override
    public NDArray head(NDArray hidden) {
      return switches.forward(false, false, () -> base.head(hidden));
    }

    @Override
    public Map<String, NDArray> parameters() {
      return base.parameters();
    }

    @Override
    public void close() {
      // the LoRA model owns the base
    }
  }
}
