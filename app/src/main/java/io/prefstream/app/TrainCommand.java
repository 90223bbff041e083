package io.prefstream.app;

import io.prefstream.trainer.service.TrainerConfig;
import io.prefstream.trainer.service.TrainerService;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
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
  public Integer call() throws InterruptedException {
    TrainerConfig trainer = TrainerConfig.parse(ClientProperties.load(config));
    AtomicBoolean running = new AtomicBoolean(true);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      running.set(false);
      try {
        stopped.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "train-stop"));
    try (TrainerService service = new TrainerService(trainer, workDir, Clock.systemUTC())) {
      service.run(running::get);
    } finally {
      stopped.countDown();
    }
    return 0;
  }
}
