package io.prefstream.app;

import ai.djl.ndarray.NDManager;
import io.prefstream.trainer.dpo.Completion;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.ModelFolder;
import io.prefstream.trainer.sampling.ResponseSampler;
import io.prefstream.trainer.sampling.SampledKl;
import io.prefstream.trainer.tokenize.ChatMessage;
import io.prefstream.trainer.tokenize.ChatTemplate;
import io.prefstream.trainer.tokenize.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * Measures a policy as the DPO paper's Figure 2 (left) does for its sentiment task: sample
 * responses to fixed prompts, score them with the ground-truth reward, and estimate KL(π‖π_ref)
 * from the same samples. Every measurement uses the same prompts and the same seed, so two
 * checkpoints differ only by their weights.
 */
final class PolicyProbe implements AutoCloseable {
  /** A policy's mean ground-truth reward and KL from the reference over its samples, with one sample to show. */
  record Measurement(double meanReward, double kl, int samples, String example) {}

  private static final int PROMPTS = 4;
  private static final int SAMPLES_PER_PROMPT = 32;
  private static final int MAX_NEW_TOKENS = 48;
  private static final long SEED = 7;

  private final NDManager manager = NDManager.newBaseManager();
  private final CausalLm reference;
  private final TextTokenizer tokenizer;
  private final ResponseSampler sampler;
  private final List<int[]> prompts = new ArrayList<>();

  /** @param chat the model's chat template: the probe's prompts are then the user's messages, rendered with it */
  PolicyProbe(Path referenceDir, Optional<ChatTemplate> chat) {
    this.reference = ModelFolder.load(referenceDir, manager);
    this.tokenizer = TextTokenizer.fromFolder(referenceDir);
    this.sampler = new ResponseSampler(MAX_NEW_TOKENS, tokenizer.eosId().orElseThrow(
        () -> new IllegalArgumentException(referenceDir + ": the demo's sampling stops at EOS, but the tokenizer has none")));
    for (int i = 0; i < PROMPTS; i++) {
      String prompt = FeedbackSimulator.prompt(i);
      prompts.add(tokenizer.encode(chat.isPresent() ? chat.get().render(List.of(new ChatMessage("user", prompt)), true) : prompt));
    }
  }

  /** The reference measured against itself: its KL is 0 by definition. */
  Measurement reference() {
    return measure(reference);
  }

  /** The policy in {@code dir}, loaded for the measurement and freed after it. */
  Measurement policy(Path dir) {
    try (CausalLm policy = ModelFolder.load(dir, manager)) {
      return measure(policy);
    }
  }

  private Measurement measure(CausalLm policy) {
    Random random = new Random(SEED);
    List<Completion> samples = new ArrayList<>();
    for (int[] prompt : prompts) samples.addAll(sampler.sample(policy, prompt, SAMPLES_PER_PROMPT, random));
    double reward = 0;
    for (Completion c : samples) reward += FeedbackSimulator.reward(text(c));
    return new Measurement(reward / samples.size(), SampledKl.estimate(policy, reference, samples), samples.size(), text(samples.get(0)));
  }

  /** The response's text without the EOS it was sampled with. */
  private String text(Completion c) {
    int[] ids = c.response();
    boolean stopped = ids[ids.length - 1] == tokenizer.eosId().orElseThrow();
    return tokenizer.decode(stopped ? Arrays.copyOf(ids, ids.length - 1) : ids);
  }

  @Override
  public void close() {
    tokenizer.close();
    manager.close();
  }
}
