package io.prefstream.trainer.service;

import io.prefstream.trainer.dpo.LabelledExample;
import io.prefstream.trainer.dpo.PreferenceExample;
import java.util.List;
import io.prefstream.trainer.model.LlamaConfig;
import io.prefstream.trainer.model.ModelConfig;

/**
 * What the model can take, checked before an example enters a batch, so that no record can fail a
 * training step: token ids inside the vocabulary, sequences within the model's positions, at most
 * {@code max.responses} responses, and a weight the float32 math can carry.
 *
 * <p>Weights are clamped to [{@value #MIN_WEIGHT}, {@value #MAX_WEIGHT}]: one example then counts
 * at most 10,000 times another in a batch's weighted mean, and none rounds to zero.
 */
final class ModelLimits {
  static final double MIN_WEIGHT = 0.01;
  static final double MAX_WEIGHT = 100;

  private final int vocabSize;
  private final int longestSequence;
  private final int maxResponses;

  ModelLimits(int vocabSize, int longestSequence, int maxResponses) {
    this.vocabSize = vocabSize;
    this.longestSequence = longestSequence;
    this.maxResponses = maxResponses;
  }

  /** The limits of a model: its vocab_size; its positions, or Mistral's sliding_window when smaller. */
  static ModelLimits of(ModelConfig model, int maxResponses) {
    int longest = model.maxPositions();
    if (model instanceof LlamaConfig llama && llama.slidingWindow() > 0) longest = Math.min(longest, llama.slidingWindow());
    return new ModelLimits(model.vocabSize(), longest, maxResponses);
  }

  int longestSequence() {
    return longestSequence;
  }

  void checkResponses(String id, int responses) {
    if (responses > maxResponses) {
      throw new UnfitExampleException(UnfitReason.TOO_MANY_RESPONSES, "example " + id + " has " + responses + " responses; max.responses is " + maxResponses);
    }
  }

  /** The weight clamped to the documented range; one that float32 cannot carry is refused. */
  double weight(String id, double weight) {
    if (!(weight > 0) || weight > Float.MAX_VALUE) {
      throw new UnfitExampleException(UnfitReason.BAD_WEIGHT, "example " + id + " has weight " + weight + "; a weight must be finite, > 0 and within float32");
    }
    return Math.min(MAX_WEIGHT, Math.max(MIN_WEIGHT, weight));
  }

  /** Checks the token ids and lengths of an example as it will be trained on (after truncation). */
  void check(PreferenceExample example) {
    check(example.id(), example.prompt(), example.responses());
  }

  /** As {@link #check(PreferenceExample)}, for a labelled response. */
  void check(LabelledExample example) {
    check(example.id(), example.prompt(), List.of(example.response()));
  }

  private void check(String id, int[] prompt, List<int[]> responses) {
    outOfVocab(id, "prompt", prompt);
    for (int k = 0; k < responses.size(); k++) outOfVocab(id, "response " + k, responses.get(k));
    int longest = prompt.length + responses.stream().mapToInt(r -> r.length).max().orElse(0);
    if (longest > longestSequence) {
      throw new UnfitExampleException(UnfitReason.TOO_LONG_FOR_MODEL, "example " + id + " is " + longest
          + " tokens after truncation to max.length; the model takes at most " + longestSequence);
    }
  }

  private void outOfVocab(String id, String part, int[] tokens) {
    for (int t : tokens) {
      if (t < 0 || t >= vocabSize) {
        throw new UnfitExampleException(UnfitReason.TOKEN_OUT_OF_VOCAB, "example " + id + ": " + part + " has token id " + t + "; the model's vocab_size is " + vocabSize);
      }
    }
  }
}
