package io.prefstream.app;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What the demo measured as it ran, for the summary table and the report. The demo's threads add
 * to it; readers get snapshots.
 */
final class DemoHistory {
  /** The trainer's last step as the demo saw it. */
  record StepPoint(long step, double loss, double rewardAccuracy) {}

  /** One published checkpoint, measured. */
  record CheckpointPoint(long version, long step, double heldOutAccuracy, PolicyProbe.Measurement measured) {}

  /** A line of the before → after table. */
  record Row(String name, String before, String after) {}

  /** Steps whose losses the "after" loss averages: one batch's loss is noisy. */
  private static final int LAST_STEPS = 10;

  private final PolicyProbe.Measurement reference;
  private final boolean labelledOnly;
  private final List<StepPoint> steps = new CopyOnWriteArrayList<>();
  private final List<CheckpointPoint> checkpoints = new CopyOnWriteArrayList<>();

  /**
   * @param reference the frozen reference, measured before training: where the policy starts
   * @param labelledOnly the feedback is single thumbs, trained with KTO: no held-out pairs, and a
   *     starting loss of 1 − σ(0) = 0.5 per response instead of DPO's ln 2 per pair
   */
  DemoHistory(PolicyProbe.Measurement reference, boolean labelledOnly) {
    this.reference = reference;
    this.labelledOnly = labelledOnly;
  }

  void add(StepPoint point) {
    steps.add(point);
  }

  void add(CheckpointPoint point) {
    checkpoints.add(point);
  }

  PolicyProbe.Measurement reference() {
    return reference;
  }

  List<StepPoint> steps() {
    return List.copyOf(steps);
  }

  List<CheckpointPoint> checkpoints() {
    return List.copyOf(checkpoints);
  }

  /**
   * Before: the policy is the reference, so every implicit reward is 0 (a coin flip on held-out
   * pairs, loss ln 2; KTO's 0.5 with z_ref = 0) and its samples are the reference's. After: the
   * newest measured checkpoint.
   */
  List<Row> beforeAfter() {
    List<StepPoint> s = steps();
    List<CheckpointPoint> c = checkpoints();
    CheckpointPoint last = c.isEmpty() ? null : c.get(c.size() - 1);
    String lossAfter = s.isEmpty() ? "-" : f(s.subList(Math.max(0, s.size() - LAST_STEPS), s.size()).stream().mapToDouble(StepPoint::loss).average().orElseThrow());
    return List.of(
        new Row("held-out reward accuracy", labelledOnly ? "-" : "0.50", last == null ? "-" : f(last.heldOutAccuracy())),
        new Row("mean ground-truth reward of samples", f(reference.meanReward()), last == null ? "-" : f(last.measured().meanReward())),
        new Row("KL(policy||reference), nats", f(0), last == null ? "-" : f(last.measured().kl())),
        new Row("training loss (last " + LAST_STEPS + " steps)", f(labelledOnly ? 0.5 : Math.log(2)), lossAfter),
        new Row("optimizer steps / checkpoint", "0 / v0", last == null ? "-" : last.step() + " / v" + last.version()));
  }

  private static String f(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.3f", v);
  }
}
