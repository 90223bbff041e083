package io.prefstream.app;

import io.prefstream.publisher.Checkpoint;
import io.prefstream.publisher.ManifestSignature;
import io.prefstream.publisher.ModelTopicReader;
import io.prefstream.publisher.VersionFolders;
import io.prefstream.schemas.CheckpointFile;
import io.prefstream.schemas.CheckpointManifest;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "checkpoints",
    mixinStandardHelpOptions = true,
    description = "Inspects the checkpoints on the model topic.",
    subcommands = {CheckpointsCommand.ListVersions.class, CheckpointsCommand.Get.class})
final class CheckpointsCommand {

  static class TopicOptions {
    @Option(names = "--bootstrap", required = true, description = "Kafka bootstrap servers.")
    String bootstrap;

    @Option(names = "--model", required = true, description = "Model name.")
    String model;

    @Option(names = "--topic", defaultValue = "model.checkpoints", description = "Model topic (default: ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--consumer-config", description = "Kafka client properties file (SASL, TLS).")
    Path consumerConfig;
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the model's versions: time, step, metrics, size.")
  static final class ListVersions implements Callable<Integer> {
    @picocli.CommandLine.Mixin TopicOptions options = new TopicOptions();

    @Override
    public Integer call() {
      try (var consumer = ModelTopicClients.consumer(options.bootstrap, options.consumerConfig, null)) {
        System.out.printf("%-8s %-24s %8s %10s %12s %s%n", "version", "created", "step", "accuracy", "bytes", "signed");
        for (CheckpointManifest m : new ModelTopicReader(consumer, options.topic).manifests(options.model)) {
          long bytes = m.getFiles().stream().mapToLong(CheckpointFile::getSize).sum();
          Double accuracy = m.getMetrics().get("eval/rewards/accuracies");
          System.out.printf("%-8d %-24s %8d %10s %12d %s%n", m.getVersion(), Instant.ofEpochMilli(m.getCreatedTime()), m.getStep(),
              accuracy == null ? "-" : String.format("%.3f", accuracy), bytes, m.getSignature() == null ? "no" : "yes");
        }
      }
      return 0;
    }
  }

  // no standard -V/--version here: --version names the checkpoint version
  @Command(name = "get", description = "Writes one version (default: the newest), verified, into OUT/<version>.")
  static final class Get implements Callable<Integer> {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @picocli.CommandLine.Mixin TopicOptions options = new TopicOptions();

    @Option(names = "--version", description = "Version to fetch (default: the newest).")
    Long version;

    @Option(names = "--out", required = true, description = "Folder to write into.")
    Path out;

    @Option(names = "--public-key", description = "Ed25519 public key (PEM) the checkpoint must be signed by.")
    Path publicKey;

    @Override
    public Integer call() {
      try (var consumer = ModelTopicClients.consumer(options.bootstrap, options.consumerConfig, null)) {
        Optional<Checkpoint> checkpoint = new ModelTopicReader(consumer, options.topic)
            .checkpoint(options.model, Optional.ofNullable(version), Optional.ofNullable(publicKey).map(ManifestSignature::readPublicKey));
        if (checkpoint.isEmpty()) throw new IllegalArgumentException("no checkpoint of " + options.model + (version == null ? "" : " v" + version) + " on " + options.topic);
        long v = checkpoint.get().manifest().getVersion();
        System.out.println(new VersionFolders(out).write(v, checkpoint.get().files()));
      }
      return 0;
    }
  }
}
