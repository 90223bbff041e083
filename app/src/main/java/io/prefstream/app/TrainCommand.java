package io.prefstream.app;

import io.prefstream.trainer.service.TrainerConfig;
import io.prefstream.trainer.service.TrainerMetrics;
import io.prefstream.trainer.service.TrainerPreflight;
import io.prefstream.trainer.service.TrainerService;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the trainer: consumes preference.pairs, trains with DPO and publishes checkpoints to the model topic,",
      "committing the pairs it covers in the same transaction. Ctrl-C publishes a last checkpoint, then exits."
    })
final class TrainCommand implements Callable<Integer> {
  @Option(names = "--config", required = true, description = "Properties file: trainer settings (see README) and any Kafka client property.")
  Path config;

  @Option(names = "--work-dir", defaultValue = "./trainer-work", description = "Scratch folder for checkpoints being published and restored (default: ${DEFAULT-VALUE}).")
  Path workDir;

  @Override
  public Integer call() {
    TrainerConfig trainer = TrainerConfig.parse(ClientProperties.load(config));
    TrainerPreflight.check(trainer, Duration.ofSeconds(30));
    try (StopSignal signal = StopSignal.install("train");
        MetricsEndpoint endpoint = new MetricsEndpoint(trainer.metricsHost(), trainer.metricsPort());
        TrainerService service = new TrainerService(trainer, workDir, Clock.systemUTC(), new TrainerMetrics(endpoint.registry()))) {
      service.run(signal::running);
    }
    return 0;
  }
}
