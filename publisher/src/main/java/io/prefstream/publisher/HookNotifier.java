package io.prefstream.publisher;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a shell command after each update, with PREFSTREAM_MODEL, PREFSTREAM_VERSION and PREFSTREAM_DIR set. */
public final class HookNotifier implements ServingNotifier {
  private static final long TIMEOUT_SECONDS = 300;
  private final String command;

  public HookNotifier(String command) {
    this.command = command;
  }

  @Override
  public void activate(String model, long version, Path folder, long previous) {
    ProcessBuilder pb = new ProcessBuilder(List.of("/bin/sh", "-c", command)).inheritIO();
    pb.environment().put("PREFSTREAM_MODEL", model);
    pb.environment().put("PREFSTREAM_VERSION", Long.toString(version));
    pb.environment().put("PREFSTREAM_DIR", folder.toAbsolutePath().toString());
    try {
      Process p = pb.start();
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("update hook '" + command + "' did not finish within " + TIMEOUT_SECONDS + " s");
      }
      if (p.exitValue() != 0) throw new IllegalStateException("update hook '" + command + "' exited with " + p.exitValue());
    } catch (IOException e) {
      throw new IllegalStateException("cannot run update hook '" + command + "': " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running the update hook", e);
    }
  }
}
