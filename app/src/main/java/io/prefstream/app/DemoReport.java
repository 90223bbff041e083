package io.prefstream.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo's report: one self-contained HTML file (inline SVG, no scripts, nothing fetched) with
 * the before → after table and three charts: the training loss, the reward accuracy, and the
 * ground-truth reward of sampled responses against KL(π‖π_ref) across checkpoints, the axes of
 * the DPO paper's Figure 2 (left).
 */
final class DemoReport {
  private DemoReport() {}

  /** Writes the report, replacing an older one. @param notes lines shown under the title */
  static Path write(Path file, DemoHistory history, List<String> notes) {
    StringBuilder html = new StringBuilder("""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>prefstream demo report</title>
        <style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}
        td:first-child,th:first-child{text-align:left}figure{display:inline-block;margin:0 1em 1em 0}</style></head><body>
        <h1>prefstream demo: online DPO on simulated feedback</h1>
        """);
    for (String note : notes) html.append("<p>").append(Html.escape(note)).append("</p>\n");
    html.append("<table><tr><th></th><th>before</th><th>after</th></tr>\n");
    for (DemoHistory.Row row : history.beforeAfter()) {
      html.append("<tr><td>").append(Html.escape(row.name())).append("</td><td>").append(Html.escape(row.before()))
          .append("</td><td>").append(Html.escape(row.after())).append("</td></tr>\n");
    }
    html.append("</table>\n");
    for (SvgChart chart : List.of(loss(history), accuracy(history), rewardVsKl(history))) {
      html.append("<figure>").append(chart.render()).append("</figure>\n");
    }
    html.append("</body></html>\n");
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.writeString(file, html);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the report " + file, e);
    }
  }

  private static SvgChart loss(DemoHistory history) {
    List<double[]> points = history.steps().stream().map(s -> new double[] {s.step(), s.loss()}).toList();
    return new SvgChart("DPO loss (training batches)", "optimizer step", "loss").add(SvgChart.Series.line("loss", "#1f77b4", points));
  }

  private static SvgChart accuracy(DemoHistory history) {
    List<double[]> batches = history.steps().stream().map(s -> new double[] {s.step(), s.rewardAccuracy()}).toList();
    List<double[]> heldOut = history.checkpoints().stream().map(c -> new double[] {c.step(), c.heldOutAccuracy()}).toList();
    return new SvgChart("Reward accuracy", "optimizer step", "accuracy")
        .add(SvgChart.Series.line("training batches", "#9ecae1", batches))
        .add(new SvgChart.Series("held-out pairs (checkpoints)", "#d62728", heldOut, true, true, List.of()));
  }

  private static SvgChart rewardVsKl(DemoHistory history) {
    List<double[]> points = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    for (DemoHistory.CheckpointPoint c : history.checkpoints()) {
      points.add(new double[] {c.measured().kl(), c.measured().meanReward()});
      labels.add("v" + c.version());
    }
    double[] reference = {0, history.reference().meanReward()};
    return new SvgChart("Ground-truth reward vs KL (as the DPO paper's Figure 2)", "KL(policy || reference), nats per response", "mean ground-truth reward of samples")
        .add(new SvgChart.Series("policy checkpoints", "#2ca02c", points, true, true, labels))
        .add(new SvgChart.Series("reference", "#7f7f7f", List.<double[]>of(reference), false, true, List.of("ref")));
  }
}
