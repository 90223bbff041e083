package io.prefstream.trainer.dpo;

import java.util.Locale;

/**
 * The f-divergence that regularizes the policy towards the reference (Wang et al. 2023, "Beyond
 * Reverse KL", arXiv:2309.16240): the losses compare scores s = f'(π/π_ref) instead of the
 * log-ratios ρ, as TRL's {@code f_divergence_type}:
 *
 * <pre>
 *   reverse_kl        s = ρ                          (DPO)
 *   forward_kl        s = −exp(−ρ)
 *   js_divergence     s = log σ(ρ)
 *   alpha_divergence  s = exp((α−1)ρ) / (α−1)          (α = 1: reverse_kl; the exponent is clamped at 80)
 * </pre>
 */
public enum FDivergence {
  REVERSE_KL,
  FORWARD_KL,
  JS_DIVERGENCE,
  ALPHA_DIVERGENCE;

  public static FDivergence parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown f-divergence '" + s + "': use reverse_kl, forward_kl, js_divergence or alpha_divergence", e);
    }
  }
}
