package io.prefstream.trainer.service;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/** The trainer as a child process for the crash test: {@code TrainerMain <properties> <work dir>}, runs until killed. */
public final class TrainerMain {
  private TrainerMain() {}

  public static void main(String[] args) throws Exception {
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(Path.of(args[0]))) {
      p.load(in);
    }
    Map<String, Object> props = new HashMap<>();
    p.forEach((k, v) -> props.put(k.toString(), v));
    try (TrainerService service = new TrainerService(TrainerConfig.parse(props), Path.of(args[1]), Clock.systemUTC(),
        new TrainerMetrics(new SimpleMeterRegistry()))) {
      service.run(() -> true);
    }
  }
}
