package io.prefstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoReportTest {

  private static DemoHistory history() {
    DemoHistory history = new DemoHistory(new PolicyProbe.Measurement(-0.01, 0, 128, "good phone"), false);
    history.add(new DemoHistory.StepPoint(10, 0.69, 0.5));
    history.add(new DemoHistory.StepPoint(20, 0.55, 0.75));
    history.add(new DemoHistory.CheckpointPoint(1, 20, 0.7, new PolicyProbe.Measurement(0.2, 1.5, 128, "great day")));
    history.add(new DemoHistory.CheckpointPoint(2, 40, 0.82, new PolicyProbe.Measurement(0.35, 3.0, 128, "love <it>")));
    return history;
  }

  @Test
  void write_drawsEverySeriesAsInlineSvg(@TempDir Path dir) throws Exception {
    Path file = DemoReport.write(dir.resolve("report.html"), history(), List.of("a note"));
    String html = Files.readString(file);
    assertThat(html).contains("<svg", "data-series=\"loss\"", "data-series=\"training batches\"", "data-series=\"held-out pairs (checkpoints)\"",
        "data-series=\"policy checkpoints\"", "data-series=\"reference\"", ">v2<", "a note");
    assertThat(html).doesNotContain("<script", "<link", "src=");
  }

  @Test
  void write_tabulatesBeforeAndAfter(@TempDir Path dir) throws Exception {
    String html = Files.readString(DemoReport.write(dir.resolve("report.html"), history(), List.of()));
    assertThat(html).contains("<td>mean ground-truth reward of samples</td><td>-0.010</td><td>0.350</td>",
        "<td>held-out reward accuracy</td><td>0.50</td><td>0.820</td>", "<td>KL(policy||reference), nats</td><td>0.000</td><td>3.000</td>");
  }

  @Test
  void beforeAfter_withoutCheckpoints_showsDashes() {
    DemoHistory history = new DemoHistory(new PolicyProbe.Measurement(0.1, 0, 128, "nice"), false);
    assertThat(history.beforeAfter()).allSatisfy(row -> assertThat(row.after()).isEqualTo("-"));
  }

  /** Single thumbs trained with KTO: no held-out pairs to start from, and the loss starts at 1 − σ(0). */
  @Test
  void beforeAfter_ofThumbsOnly_startsFromKtosLoss() {
    DemoHistory history = new DemoHistory(new PolicyProbe.Measurement(0.1, 0, 128, "nice"), true);
    assertThat(history.beforeAfter()).contains(new DemoHistory.Row("held-out reward accuracy", "-", "-"),
        new DemoHistory.Row("training loss (last 10 steps)", "0.500", "-"));
  }
}
