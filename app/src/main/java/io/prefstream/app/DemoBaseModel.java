package io.prefstream.app;

import ai.djl.ndarray.NDManager;
import io.prefstream.trainer.dpo.Completion;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.ModelFolder;
import io.prefstream.trainer.model.ModelRecipe;
import io.prefstream.trainer.optim.LinearWarmup;
import io.prefstream.trainer.sft.SftStep;
import io.prefstream.trainer.tokenize.TextTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The demo's default policy: a project-made tiny GPT-2 over bytes, pre-trained for a few seconds
 * on reviews drawn as the simulated users write them (the paper's SFT stage), so that its samples
 * are words rather than noise. It is both the policy's start and the frozen reference.
 *
 * <p>The result is cached in the out folder. A marker file, written last, says pre-training
 * finished, so an interrupted run or the random model of an older demo is never taken for it.
 */
final class DemoBaseModel {
  static final ModelRecipe RECIPE = new ModelRecipe(ModelRecipe.Arch.GPT2, 257, 2, 64, 4, 4, 256, 128, true);
  private static final String MARKER = "pretraining.txt";
  private static final long SEED = 0;
  private static final int STEPS = 200;
  private static final int BATCH = 32;
  private static final double LR = 5e-3;
  private static final int WARMUP = 20;
  private static final int PRINT_EVERY = 50;

  private DemoBaseModel() {}

  /** The pre-trained model folder, made now unless {@code dir} holds it already. */
  static Path prepare(Path dir) throws IOException {
    if (Files.isRegularFile(dir.resolve(MARKER))) {
      System.out.println("base model " + dir + " (pre-trained earlier: " + Files.readString(dir.resolve(MARKER)).strip() + ")");
      return dir;
    }
    Files.createDirectories(dir.toAbsolutePath().getParent());
    Path work = Files.createTempDirectory(dir.toAbsolutePath().getParent(), ".base-model-");
    RECIPE.writeRandom(SEED, work);
    System.out.printf(Locale.ROOT, "pre-training the tiny policy on the users' kind of reviews (%d steps of %d)...%n", STEPS, BATCH);
    long start = System.nanoTime();
    double[] losses = new double[STEPS];
    try (NDManager manager = NDManager.newBaseManager(); CausalLm model = ModelFolder.load(work, manager);
        TextTokenizer tokenizer = TextTokenizer.fromFolder(work); SftStep sft = new SftStep(model, new LinearWarmup(LR, WARMUP), 1.0)) {
      FeedbackSimulator users = new FeedbackSimulator(SEED, false);
      for (int i = 0; i < STEPS; i++) {
        List<Completion> batch = new ArrayList<>(BATCH);
        for (int b = 0; b < BATCH; b++) batch.add(completion(users.demonstration(), tokenizer));
        losses[i] = sft.step(batch);
        if ((i + 1) % PRINT_EVERY == 0) System.out.printf(Locale.ROOT, "  step %d/%d loss %.2f%n", i + 1, STEPS, losses[i]);
      }
      ModelFolder.save(model, work);
    }
    String summary = String.format(Locale.ROOT, "%d SFT steps of %d, lr %s, seed %d: loss %.2f -> %.2f nats/token", STEPS, BATCH, LR, SEED,
        losses[0], Arrays.stream(losses, STEPS - 20, STEPS).average().orElseThrow());
    Files.writeString(work.resolve(MARKER), summary + "\n");
    if (Files.exists(dir)) Folders.deleteTree(dir); // a model without the marker: interrupted, or random from an older demo
    Files.move(work, dir, StandardCopyOption.ATOMIC_MOVE);
    System.out.printf(Locale.ROOT, "base model %s: %s, in %.0f s%n", dir, summary, (System.nanoTime() - start) / 1e9);
    return dir;
  }

  /** As the trainer tokenizes a pair's text: prompt and response apart, EOS after the response. */
  private static Completion completion(FeedbackSimulator.Demonstration d, TextTokenizer tokenizer) {
    return new Completion(tokenizer.encode(d.prompt()), tokenizer.encodeResponse(d.response()));
  }
}
