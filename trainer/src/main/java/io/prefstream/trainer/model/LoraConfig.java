package io.prefstream.trainer.model;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * LoRA hyper-parameters, named as PEFT's {@code LoraConfig}.
 *
 * @param r the rank of each update BA
 * @param alpha {@code lora_alpha}: updates are scaled by α/r, so the learning rate need not change
 *     with the rank
 * @param dropout dropout on an adapter's input during training
 * @param targetModules module names or suffixes the adapters attach to, as PEFT matches them (a
 *     module is a target when its full name equals an entry or ends with "." + entry); the words
 *     {@value #ATTENTION} and {@value #MLP} stand for the architecture's attention and feed-forward
 *     projections
 */
public record LoraConfig(int r, double alpha, double dropout, List<String> targetModules) {

  /** Every attention projection: GPT-2's c_attn and attn.c_proj; Llama's, Qwen's and Gemma's q/k/v/o_proj. */
  public static final String ATTENTION = "attention";

  /** Every feed-forward projection: GPT-2's c_fc and mlp.c_proj; Llama's, Qwen's and Gemma's gate/up/down_proj. */
  public static final String MLP = "mlp";

  public LoraConfig {
    if (r < 1) throw new IllegalArgumentException("LoRA rank r must be >= 1, got " + r);
    if (!(alpha > 0)) throw new IllegalArgumentException("lora_alpha must be > 0, got " + alpha);
    if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + dropout);
    if (targetModules.isEmpty()) throw new IllegalArgumentException("LoRA needs at least one target module");
    targetModules = List.copyOf(targetModules);
  }

  /** α/r. */
  public double scaling() {
    return alpha / r;
  }

  /** The target modules with {@value #ATTENTION} and {@value #MLP} spelled out for {@code config}'s architecture. */
  public List<String> resolvedTargets(ModelConfig config) {
    boolean gpt2 = config instanceof Gpt2Config;
    Set<String> targets = new LinkedHashSet<>();
    for (String target : targetModules) {
      switch (target) {
        case ATTENTION -> targets.addAll(gpt2 ? List.of("c_attn", "attn.c_proj") : List.of("q_proj", "k_proj", "v_proj", "o_proj"));
        case MLP -> targets.addAll(gpt2 ? List.of("c_fc", "mlp.c_proj") : List.of("gate_proj", "up_proj", "down_proj"));
        default -> targets.add(target);
      }
    }
    return new ArrayList<>(targets);
  }

  /** PEFT's rule: the full module name is a target or ends with "." + a target. */
  static boolean matches(String fullModuleName, List<String> targets) {
    return targets.stream().anyMatch(t -> fullModuleName.equals(t) || fullModuleName.endsWith("." + t));
  }
}
