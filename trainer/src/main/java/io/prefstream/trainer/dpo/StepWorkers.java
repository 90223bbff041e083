package io.prefstream.trainer.dpo;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.WorkerModel;
import java.util.Optional;

/**
 * How many workers a step runs at once ({@link DataParallel}) and how many PyTorch threads each
 * uses, from the setting and what the step trains.
 *
 * <p>On a CPU, workers share the cores: each gets cores / workers intra-op threads (one each on two
 * cores), because at the matrix sizes of small models two single-threaded passes at once finish
 * sooner than one pass on two threads. One worker where that does not hold or cannot be:
 *
 * <ul>
 *   <li>on a GPU: the passes would queue on the same device;
 *   <li>LoRA: its adapters are switched on and off per model, one pass at a time;
 *   <li>a loss that sorts the batch (aot, aot_unpaired): the workers' share of the token budget
 *       would make smaller micro-batches, and so a different loss;
 *   <li>more than {@link #MAX_PARAMETERS} trainable parameters: every other worker accumulates its
 *       gradients in a copy of the trainable weights' size (747 MiB at 196M parameters, the
 *       Qwen-vocabulary shape, whose peak resident set must not grow), and such a model's large
 *       products keep several threads busy in one pass anyway.
 * </ul>
 *
 * @param workers passes at once
 * @param threads PyTorch intra-op threads per worker; empty: PyTorch's default, left as it is
 */
public record StepWorkers(int workers, Optional<Integer> threads) {
  /** Trainable parameters above which a step runs one worker (see the class comment). */
  public static final long MAX_PARAMETERS = 50_000_000;

  public static StepWorkers of(int setting, Device device, CausalLm policy, DpoConfig loss, int cores) {
    if (setting < 1) throw new IllegalArgumentException("workers must be at least 1, got " + setting);
    long trainable = policy.parameters().values().stream().mapToLong(a -> a.size()).sum();
    int workers = Math.min(setting, cores);
    if (workers == 1 || device.isGpu() || loss.sortsTheBatch() || trainable > MAX_PARAMETERS || !hasWorkerViews(policy)) return new StepWorkers(1, Optional.empty());
    return new StepWorkers(workers, Optional.of(Math.max(1, cores / workers)));
  }

  private static boolean hasWorkerViews(CausalLm policy) {
    Optional<WorkerModel> view = policy.forWorker();
    view.ifPresent(WorkerModel::close);
    return view.isPresent();
  }

  /** Sets PyTorch's intra-op threads, if this says how many, for this thread and every thread that has not computed yet (a thread keeps the count it first computed with): call it before the workers start. */
  public void applyThreads() {
    threads.ifPresent(JniUtils::setNumThreads);
  }
}
