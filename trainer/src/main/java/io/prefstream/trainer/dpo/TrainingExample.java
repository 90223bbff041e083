package io.prefstream.trainer.dpo;

/** What one training step can learn from: a preference over responses, or one labelled response. */
public sealed interface TrainingExample permits PreferenceExample, LabelledExample {
  String id();

  /** Finite and positive; scales the example's loss. */
  double weight();
}
