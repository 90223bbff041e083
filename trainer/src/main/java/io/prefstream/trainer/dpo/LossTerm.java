package io.prefstream.trainer.dpo;

import java.util.ArrayList;
import java.util.List;

/**
 * One member of a weighted combination of losses, as TRL's {@code loss_type} list with {@code
 * loss_weights} (MPO: sigmoid, bco_pair, sft).
 *
 * @param weight finite; the term's loss is multiplied by it
 */
public record LossTerm(LossType type, double weight) {
  public LossTerm {
    if (!Double.isFinite(weight)) throw new IllegalArgumentException("the weight of " + type.label() + " must be finite, got " + weight);
  }

  /**
   * Parses {@code sigmoid,bco_pair,sft} and its weights ({@code 0.8,0.2,1}); no weights: 1 each.
   *
   * @throws IllegalArgumentException for an unknown name, a repeated one, or as many weights as names
   */
  public static List<LossTerm> parse(List<String> names, List<Double> weights) {
    if (names.isEmpty()) throw new IllegalArgumentException("name at least one loss");
    if (!weights.isEmpty() && weights.size() != names.size()) {
      throw new IllegalArgumentException(names.size() + " losses but " + weights.size() + " weights: give one weight per loss, or none");
    }
    List<LossTerm> terms = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      LossType type = LossType.parse(names.get(i));
      if (terms.stream().anyMatch(t -> t.type() == type)) throw new IllegalArgumentException("loss " + type.label() + " is named twice");
      terms.add(new LossTerm(type, weights.isEmpty() ? 1.0 : weights.get(i)));
    }
    return List.copyOf(terms);
  }

  /** {@code 0.8·sigmoid + 0.2·bco_pair}, or just {@code sigmoid} for one term of weight 1. */
  public static String describe(List<LossTerm> terms) {
    if (terms.size() == 1 && terms.get(0).weight() == 1) return terms.get(0).type().label();
    StringBuilder b = new StringBuilder();
    for (LossTerm t : terms) b.append(b.isEmpty() ? "" : " + ").append(t.weight()).append('·').append(t.type().label());
    return b.toString();
  }
}
