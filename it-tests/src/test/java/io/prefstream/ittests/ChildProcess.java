package io.prefstream.ittests;

import static org.awaitility.Awaitility.await;

import io.prefstream.app.Prefstream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code prefstream <command>} as a child JVM, as {@code bin/prefstream} starts it (DJL
 * offline, no tracking), its console (stdout and stderr) in {@code <name>.log}.
 */
record ChildProcess(String name, Process process, Path log) implements AutoCloseable {

  static ChildProcess start(Path logDir, String name, String heap, String... args) {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + heap,
        "-Dai.djl.offline=true", "-Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.prefstream", "-cp", System.getProperty("java.class.path"),
        Prefstream.class.getName()));
    command.addAll(List.of(args));
    Path log = logDir.resolve(name + ".log");
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("OPT_OUT_TRACKING", "true");
    try {
      return new ChildProcess(name, pb.start(), log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start prefstream " + name, e);
    }
  }

  /** Its console so far. */
  String console() {
    try {
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits for a console line matching {@code regex} and returns its first group. */
  String awaitLine(String regex, Duration atMost) {
    Pattern pattern = Pattern.compile(regex, Pattern.MULTILINE);
    String[] found = new String[1];
    await().atMost(atMost).pollInterval(Duration.ofMillis(200)).until(() -> {
      if (!process.isAlive() && !pattern.matcher(console()).find()) {
        throw new IllegalStateException(name + " exited with " + process.exitValue() + ":\n" + console());
      }
      Matcher m = pattern.matcher(console());
      if (!m.find()) return false;
      found[0] = m.groupCount() > 0 ? m.group(1) : m.group();
      return true;
    });
    return found[0];
  }

  /** Waits for it to exit by itself and returns its exit code. */
  int awaitExit(Duration atMost) throws InterruptedException {
    if (!process.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) throw new IllegalStateException(name + " still runs after " + atMost + ":\n" + console());
    return process.exitValue();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Stops it as Ctrl-C would (SIGTERM), then for good if it does not stop. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
