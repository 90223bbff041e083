package io.prefstream.trainer.dpo;

import java.util.Locale;

/** The DPO-family losses; {@link PreferenceLoss} has their equations. */
public enum LossType {
  SIGMOID,
  CDPO,
  IPO,
  HINGE,
  PLACKETT_LUCE;

  public static LossType parse(String s) {
    String name = s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
    for (LossType t : values()) {
      if (t.name().equals(name)) return t;
    }
    throw new IllegalArgumentException("unknown loss '" + s + "': use sigmoid, cdpo, ipo, hinge or plackett-luce");
  }

  /** The name used on the command line and in configs. */
  public String label() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
