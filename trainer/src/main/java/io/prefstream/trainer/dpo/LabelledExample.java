package io.prefstream.trainer.dpo;

/**
 * One response with a binary label, in token ids: a thumbs up (desirable) or down (undesirable),
 * KTO's unit of feedback. The response is scored as the continuation of the prompt, as in {@link
 * PreferenceExample}.
 *
 * @param weight finite and positive; scales this example's loss
 */
public record LabelledExample(String id, int[] prompt, int[] response, boolean desirable, double weight) implements TrainingExample {
  public LabelledExample {
    if (prompt.length == 0) throw new IllegalArgumentException("example " + id + ": the prompt has no tokens");
    if (response.length == 0) throw new IllegalArgumentException("example " + id + ": the response has no tokens");
    if (!(weight > 0) || Double.isInfinite(weight)) throw new IllegalArgumentException("example " + id + ": weight must be finite and > 0, got " + weight);
  }

  public Completion completion() {
    return new Completion(prompt, response);
  }

  /** Tokens of prompt and response. */
  public int tokens() {
    return prompt.length + response.length;
  }
}
