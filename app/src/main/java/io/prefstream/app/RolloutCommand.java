package io.prefstream.app;

import io.prefstream.publisher.HookNotifier;
import io.prefstream.publisher.ManifestSignature;
import io.prefstream.publisher.PendingChunks;
import io.prefstream.publisher.RolloutAgent;
import io.prefstream.publisher.ServingNotifier;
import io.prefstream.publisher.VersionFolders;
import io.prefstream.publisher.VllmNotifier;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "rollout",
    mixinStandardHelpOptions = true,
    description = {
      "Follows a model on the model topic and rolls each verified checkpoint out into DIR/<version>, repointing DIR/current.",
      "Only a version greater than the current one becomes current; --pin is the only way back."})
final class RolloutCommand implements Callable<Integer> {
  @Option(names = "--bootstrap", required = true, description = "Kafka bootstrap servers.")
  String bootstrap;

  @Option(names = "--model", required = true, description = "Model name (the model topic's key).")
  String model;

  @Option(names = "--dir", required = true, description = "Rollout folder: DIR/<version>/ and DIR/current.")
  Path dir;

  @Option(names = "--topic", defaultValue = "model.checkpoints", description = "Model topic (default: ${DEFAULT-VALUE}).")
  String topic;

  @Option(names = "--public-key", description = "Ed25519 public key (PEM): refuse checkpoints not signed by it.")
  Path publicKey;

  @Option(names = "--min-accuracy", description = "Promotion gate: versions whose held-out reward accuracy is below (or missing, or NaN) are written but not made current.")
  Double minAccuracy;

  @Option(names = "--keep", defaultValue = "3", description = "Versions kept on disk (default: ${DEFAULT-VALUE}).")
  int keep;

  @Option(names = "--pin", paramLabel = "VERSION", description = "Make this version current (going back if it is older), then hold it: newer versions are not rolled out while pinned.")
  Long pin;

  @Option(names = "--max-pending-bytes", defaultValue = "34359738368", description = "Disk that chunks waiting for their manifest may take under DIR/.work (default: ${DEFAULT-VALUE}, 32 GiB).")
  long maxPendingBytes;

  @Option(names = "--max-pending-age", defaultValue = "1h", converter = DemoCommand.DurationConverter.class, description = "How long (topic time) chunks wait for their manifest before they are dropped (default: ${DEFAULT-VALUE}).")
  Duration maxPendingAge;

  @Option(names = "--on-update", description = "Shell command run after each update (env PREFSTREAM_MODEL, PREFSTREAM_VERSION, PREFSTREAM_DIR).")
  String onUpdate;

  @Option(names = "--vllm-url", description = "vLLM base URL: load each version as a LoRA adapter, then unload the previous one.")
  String vllmUrl;

  @Option(names = "--consumer-config", description = "Kafka client properties file (SASL, TLS, schema.registry.url; the registry defaults to " + ModelTopicClients.LOCAL_REGISTRY + ", as prefstream broker serves it), passed through.")
  Path consumerConfig;

  @Override
  public Integer call() {
    ServingNotifier notifier = vllmUrl != null ? new VllmNotifier(vllmUrl) : onUpdate != null ? new HookNotifier(onUpdate) : ServingNotifier.NONE;
    RolloutAgent agent = new RolloutAgent(model, new VersionFolders(dir), Optional.ofNullable(publicKey).map(ManifestSignature::readPublicKey),
        new PendingChunks.Limits(maxPendingBytes, maxPendingAge), minAccuracy == null ? OptionalDouble.empty() : OptionalDouble.of(minAccuracy), keep, notifier);
    try (StopSignal signal = StopSignal.install("rollout"); var consumer = ModelTopicClients.consumer(bootstrap, consumerConfig)) {
      if (pin != null) agent.pin(pin, consumer, topic);
      agent.run(consumer, topic, signal::running);
    }
    return 0;
  }
}
