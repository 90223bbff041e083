package io.prefstream.trainer.dpo;

import java.util.Locale;

/**
 * The preference losses, under TRL's {@code loss_type} names (plus cdpo, plackett-luce, simpo and
 * orpo); {@link PairwiseLosses} and {@link PreferenceLoss} have their equations.
 */
public enum LossType {
  SIGMOID,
  CDPO,
  ROBUST,
  IPO,
  HINGE,
  EXO_PAIR,
  NCA_PAIR,
  BCO_PAIR,
  SPPO_HARD,
  AOT,
  AOT_UNPAIRED,
  APO_ZERO,
  APO_DOWN,
  DISCOPOP,
  SFT,
  SIGMOID_NORM,
  SIMPO,
  ORPO,
  PLACKETT_LUCE;

  public static LossType parse(String s) {
    String name = s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
    for (LossType t : values()) {
      if (t.name().equals(name)) return t;
    }
    throw new IllegalArgumentException("unknown loss '" + s + "': use one of " + names());
  }

  /** The name used on the command line and in configs. */
  public String label() {
    return this == PLACKETT_LUCE ? "plackett-luce" : name().toLowerCase(Locale.ROOT);
  }

  /** False for the losses that read the policy alone (SimPO, ORPO, SFT): they need no reference pass. */
  public boolean needsReference() {
    return this != SFT && this != SIMPO && this != ORPO;
  }

  /** True for the losses that compare examples with each other (they sort the batch's log-ratios). */
  public boolean sortsTheBatch() {
    return this == AOT || this == AOT_UNPAIRED;
  }

  /** True for the losses that read the label smoothing ε. */
  public boolean usesLabelSmoothing() {
    return this == SIGMOID || this == CDPO || this == ROBUST || this == EXO_PAIR || this == AOT || this == AOT_UNPAIRED || this == SIMPO;
  }

  public static String names() {
    StringBuilder b = new StringBuilder();
    for (LossType t : values()) b.append(b.isEmpty() ? "" : ", ").append(t.label());
    return b.toString();
  }
}
