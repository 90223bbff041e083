package io.prefstream.app;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.prefstream.trainer.dpo.DpoConfig;
import io.prefstream.trainer.dpo.DpoStep;
import io.prefstream.trainer.dpo.PreferenceBatch;
import io.prefstream.trainer.dpo.PreferenceExample;
import io.prefstream.trainer.dpo.StepMetrics;
import io.prefstream.trainer.dpo.StepWorkers;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.LoraConfig;
import io.prefstream.trainer.model.LoraModel;
import io.prefstream.trainer.model.ModelFolder;
import io.prefstream.trainer.optim.LinearWarmup;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Times full DPO training steps the way {@code shared/anchors/torch_dpo_step.py} times PyTorch
 * eager: same pairs in the same order, sigmoid loss, β 0.1, AdamW lr 1e-5, clipping at 1.0, a few
 * untimed warm-up steps, the median step time, tokens over the timed steps, peak RSS. With
 * {@code --lora} it trains adapters instead and reports how many copies of the weights are resident.
 * {@code loaded_rss_mib} is the resident set once both models are loaded, before the first step.
 */
@Command(
    name = "step",
    mixinStandardHelpOptions = true,
    description = "Times DPO training steps on a model folder and pairs file; prints RESULT ms_per_step=.. pairs_per_s=.. tokens_per_s=.. peak_rss_mib=..")
final class BenchStepCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "Model folder; policy and reference both start from it.")
  Path model;

  @Option(names = "--pairs", required = true, description = "JSON lines with prompt_ids, chosen_ids, rejected_ids.")
  Path pairs;

  @Option(names = "--batch", defaultValue = "8", description = "Pairs per step (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--steps", defaultValue = "20", description = "Timed steps (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--warmup", defaultValue = "3", description = "Untimed steps first (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--threads", description = "PyTorch intra-op threads per worker (default: the trainer's choice: cores / workers with several workers, else PyTorch's default).")
  Integer threads;

  @Option(names = "--workers", defaultValue = "2",
      description = "Micro-batches (or parts of one) computed at once, each on its own thread, as the trainer's compute.workers, which also decides when one is used (default: ${DEFAULT-VALUE}).")
  int workers;

  @Option(names = "--layout", defaultValue = "PACKED",
      description = "How a micro-batch's tokens sit in rows: PADDED (each response after its own prompt copy, as PyTorch's anchor), SHARED (one row per example, the prompt once), PACKED (shared, several examples a row) (default: ${DEFAULT-VALUE}).")
  PreferenceBatch.Layout layout;

  @Option(names = "--lora", description = "Train LoRA adapters (rank --lora-r on every attention projection, alpha 2r) against the base with them off, instead of every weight against a second copy.")
  boolean lora;

  @Option(names = "--lora-r", defaultValue = "8", description = "LoRA rank (default: ${DEFAULT-VALUE}).")
  int loraR;

  @Option(names = "--profile", description = "Writes PyTorch's profiler trace of the last timed step to this file (Chrome trace JSON; bench/ops.py sums it per operator).")
  Path profile;

  @Override
  public Integer call() {
    // read by DJL's PyTorch engine when it loads, which is below
    if (threads != null) System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(threads));
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    List<PreferenceExample> all = PairsFile.read(pairs, () -> {
      throw new IllegalArgumentException("bench step takes token ids, not text");
    });
    List<Double> times = new ArrayList<>();
    List<Double> cpuTimes = new ArrayList<>();
    long tokens = 0;
    double weightCopies;
    long trainable;
    long loadedRss;
    int stepWorkers;
    try (NDManager manager = NDManager.newBaseManager();
        CausalLm policy = lora
            ? LoraModel.attach(ModelFolder.load(model, manager), new LoraConfig(loraR, 2.0 * loraR, 0, List.of(LoraConfig.ATTENTION)), 0)
            : ModelFolder.load(model, manager);
        CausalLm reference = lora ? ((LoraModel) policy).reference() : ModelFolder.load(model, manager);
        DpoStep step = new DpoStep(policy, reference, DpoConfig.defaults(), new LinearWarmup(lora ? 1e-4 : 1e-5, 0), 1.0, 0.0, layout,
            chosenWorkers(policy, manager))) {
      loadedRss = rssMib("VmRSS:");
      stepWorkers = step.workers();
      weightCopies = (double) residentElements(policy, reference) / elements(reference.parameters().values());
      trainable = elements(policy.parameters().values());
      for (int s = 0; s < warmup + steps; s++) {
        List<PreferenceExample> chunk = new ArrayList<>(batch);
        for (int i = 0; i < batch; i++) chunk.add(all.get((s * batch + i) % all.size()));
        boolean profiled = profile != null && s == warmup + steps - 1;
        if (profiled) JniUtils.startProfile(false, true, false);
        long t0 = System.nanoTime();
        long cpu0 = processCpuNanos();
        StepMetrics metrics = step.step(List.of(chunk));
        double seconds = (System.nanoTime() - t0) / 1e9;
        double cpuSeconds = (processCpuNanos() - cpu0) / 1e9;
        if (profiled) JniUtils.stopProfile(profile.toString());
        if (s >= warmup) {
          times.add(seconds);
          cpuTimes.add(cpuSeconds);
          tokens += metrics.tokens();
        }
        System.err.printf(Locale.ROOT, "step %d loss %.6f %.1f ms%n", s, metrics.loss(), seconds * 1000);
      }
    }
    double median = median(times);
    double total = times.stream().mapToDouble(Double::doubleValue).sum();
    System.out.printf(Locale.ROOT, "RESULT ms_per_step=%.2f cpu_ms_per_step=%.2f pairs_per_s=%.2f tokens_per_s=%.1f peak_rss_mib=%d loaded_rss_mib=%d mode=%s layout=%s trainable_params=%d weight_copies=%.3f djl=%s threads=%d workers=%d%n",
        median * 1000, median(cpuTimes) * 1000, batch / median, tokens / total, rssMib("VmHWM:"), loadedRss, lora ? "lora" : "full", layout.name().toLowerCase(Locale.ROOT), trainable, weightCopies, Engine.getDjlVersion(), JniUtils.getNumThreads(), stepWorkers);
    return 0;
  }

  /** The trainer's choice of workers for this model ({@link StepWorkers}), with its threads unless --threads says. */
  private int chosenWorkers(CausalLm policy, NDManager manager) {
    StepWorkers chosen = StepWorkers.of(workers, manager.getDevice(), policy, DpoConfig.defaults(), Runtime.getRuntime().availableProcessors());
    if (threads == null) chosen.applyThreads();
    return chosen.workers();
  }

  private static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    return sorted.get(sorted.size() / 2);
  }

  /**
   * CPU time of the whole process (every thread, JVM and libtorch): on a loaded machine a step's
   * wall time moves with what else runs, its CPU time much less, so A/B runs at one thread compare it.
   */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /** Elements of every distinct weight array the two models hold, counting a shared array once. */
  private static long residentElements(CausalLm policy, CausalLm reference) {
    Set<NDArray> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
    distinct.addAll(policy.parameters().values());
    distinct.addAll(reference.parameters().values());
    return elements(distinct);
  }

  private static long elements(Collection<NDArray> arrays) {
    return arrays.stream().mapToLong(NDArray::size).sum();
  }

  /**
   * A line of /proc/self/status in MiB: VmHWM is the peak resident set, as the anchor's ru_maxrss;
   * VmRSS the current one.
   */
  private static long rssMib(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(field)) return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
      }
    } catch (IOException e) {
      // not Linux: report nothing rather than a wrong number
    }
    return -1;
  }
}
