package io.prefstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole demo, short: pre-training, broker, ingest, trainer, rollout, probing, summary and report;
 * its console holds only its own lines, every log line is in the file it names, and the summary's
 * counts add up.
 */
class DemoTest {

  @Test
  void demo_printsTheSummaryAndWritesTheReport(@TempDir Path out) throws Exception {
    Cli cli = Cli.run("demo", "--duration", "20s", "--out", out.toString());

    assertThat(cli.exitCode()).as(cli.err()).isZero();
    assertThat(cli.out()).contains("pre-training the tiny policy", "reference: ground-truth reward", "summary", "before", "-> after",
        "mean ground-truth reward of samples", "report");

    Pattern logLine = Pattern.compile("^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} ", Pattern.MULTILINE);
    assertThat(logLine.matcher(cli.out()).find()).as("a log line on stdout:%n%s", cli.out()).isFalse();
    assertThat(logLine.matcher(cli.err()).find()).as("a log line on stderr:%n%s", cli.err()).isFalse();
    Path logFile = out.resolve("logs/demo.log");
    assertThat(cli.out()).contains(logFile.toAbsolutePath().toString());
    assertThat(Files.readString(logFile)).contains("kafka");

    long sent = count(cli.out(), "feedback events sent");
    assertThat(sent).isPositive();
    assertThat(count(cli.out(), "accepted by ingest") + count(cli.out(), "dropped as repeats") + count(cli.out(), "sent to the DLQ")
        + count(cli.out(), "in flight at stop")).isEqualTo(sent);

    assertThat(Files.readString(out.resolve("report.html"))).contains("<svg", "data-series=\"policy checkpoints\"");
    assertThat(out.resolve("base-model/pretraining.txt")).isRegularFile();
    assertThat(out.resolve("serving/current")).isSymbolicLink();
  }

  /** The number at the end of the summary line that starts with {@code label}. */
  private static long count(String console, String label) {
    Matcher m = Pattern.compile("^\\s*" + Pattern.quote(label) + "\\s+(\\d+)$", Pattern.MULTILINE).matcher(console);
    assertThat(m.find()).as("summary line '%s' in%n%s", label, console).isTrue();
    return Long.parseLong(m.group(1));
  }
}
