package io.prefstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole demo, short: pre-training, broker, ingest, trainer, rollout, probing, summary and report. */
class DemoTest {

  @Test
  void demo_printsTheSummaryAndWritesTheReport(@TempDir Path out) throws Exception {
    Cli cli = Cli.run("demo", "--duration", "20s", "--out", out.toString());

    assertThat(cli.exitCode()).as(cli.err()).isZero();
    assertThat(cli.out()).contains("pre-training the tiny policy", "reference: ground-truth reward", "summary", "before", "-> after",
        "mean ground-truth reward of samples", "report");
    assertThat(Files.readString(out.resolve("report.html"))).contains("<svg", "data-series=\"policy checkpoints\"");
    assertThat(out.resolve("base-model/pretraining.txt")).isRegularFile();
    assertThat(out.resolve("serving/current")).isSymbolicLink();
  }
}
