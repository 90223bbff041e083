package io.prefstream.app;

import io.prefstream.publisher.Checkpoint;
import io.prefstream.publisher.CheckpointAssembler;
import io.prefstream.publisher.ManifestFilter;
import io.prefstream.publisher.ManifestSignature;
import io.prefstream.publisher.ModelTopicReader;
import io.prefstream.publisher.PendingChunks;
import io.prefstream.publisher.RolloutAgent;
import io.prefstream.publisher.VersionFolders;
import io.prefstream.schemas.CheckpointFile;
import io.prefstream.schemas.CheckpointManifest;
import java.nio.file.Path;
import java.security.PublicKey;
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

    @Option(names = "--consumer-config", description = "Kafka client properties file (SASL, TLS, schema.registry.url; the registry defaults to " + ModelTopicClients.LOCAL_REGISTRY + ", as prefstream broker serves it).")
    Path consumerConfig;
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the model's versions: time, step, metrics, size, signer.")
  static final class ListVersions implements Callable<Integer> {
    @picocli.CommandLine.Mixin TopicOptions options = new TopicOptions();

    @Option(names = "--public-key", description = "Ed25519 public key (PEM): also say whether each version's signature verifies with it.")
    Path publicKey;

    @Override
    public Integer call() {
      Optional<PublicKey> key = Optional.ofNullable(publicKey).map(ManifestSignature::readPublicKey);
      try (var consumer = ModelTopicClients.consumer(options.bootstrap, options.consumerConfig)) {
        System.out.printf("%-8s %-24s %8s %10s %14s %-16s%s%n", "version", "created", "step", "accuracy", "bytes", "signer", key.isPresent() ? " verified" : "");
        for (CheckpointManifest m : new ModelTopicReader(consumer, options.topic).manifests(options.model)) {
          long bytes = m.getFiles().stream().mapToLong(CheckpointFile::getSize).sum();
          Double accuracy = m.getMetrics().get(RolloutAgent.ACCURACY_METRIC);
          String signer = m.getSignature() == null || m.getPublicKeyFingerprint() == null ? "unsigned" : m.getPublicKeyFingerprint().substring(0, Math.min(16, m.getPublicKeyFingerprint().length()));
          System.out.printf("%-8d %-24s %8d %10s %14d %-16s%s%n", m.getVersion(), Instant.ofEpochMilli(m.getCreatedTime()), m.getStep(),
              accuracy == null ? "-" : String.format("%.3f", accuracy), bytes, signer, key.map(k -> ManifestSignature.isSignedBy(m, k) ? " yes" : " NO").orElse(""));
        }
      }
      return 0;
    }
  }

  // no standard -V/--version here: --version names the checkpoint version
  @Command(name = "get", description = "Writes one version (default: the newest), verified, into OUT/<version>; never over an existing one.")
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
      Optional<PublicKey> key = Optional.ofNullable(publicKey).map(ManifestSignature::readPublicKey);
      VersionFolders folders = new VersionFolders(out);
      try (var consumer = ModelTopicClients.consumer(options.bootstrap, options.consumerConfig);
          var assembler = new CheckpointAssembler(key, folders.workDir(), PendingChunks.Limits.DEFAULT)) {
        Optional<Checkpoint> found = new ModelTopicReader(consumer, options.topic).checkpoint(options.model, Optional.ofNullable(version), assembler, ManifestFilter.ANY);
        String which = options.model + (version == null ? "" : " v" + version);
        if (found.isEmpty()) {
          throw new IllegalArgumentException(key.isEmpty() ? "no complete checkpoint of " + which + " on " + options.topic
              : "no checkpoint of " + which + " on " + options.topic + " is signed by the key in " + publicKey + " (fingerprint "
                  + ManifestSignature.fingerprint(key.get()).substring(0, 16) + "); the log names each one refused");
        }
        try (Checkpoint checkpoint = found.get()) {
          System.out.println(folders.install(checkpoint.version(), checkpoint.serving()));
        }
      }
      return 0;
    }
  }
}
