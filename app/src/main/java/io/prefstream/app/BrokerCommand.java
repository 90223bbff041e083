package io.prefstream.app;

import io.prefstream.broker.LocalBroker;
import io.prefstream.broker.registry.LocalSchemaRegistry;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "broker",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a single-node KRaft Kafka broker on localhost until Ctrl-C or SIGTERM, with a schema registry (Confluent's REST API) beside it.",
      "The registry keeps its schemas in the compacted topic _schemas, so ids survive restarts; for local runs only (production: Confluent Schema Registry, Karapace or Apicurio)."
    })
final class BrokerCommand implements Callable<Integer> {

  @Option(names = "--port", defaultValue = "9092", description = "Client port (default: ${DEFAULT-VALUE}; 0 picks a free one).")
  int port;

  @Option(names = "--dir", defaultValue = "./kafka-data", description = "Data folder, formatted on first start and reused after (default: ${DEFAULT-VALUE}).")
  Path dir;

  @Option(names = "--scram-port", description = "Also take SASL_PLAINTEXT clients with SCRAM-SHA-256 logins on this port (0 picks a free one); "
      + "create users over the plaintext port, e.g. with the Admin API's alterUserScramCredentials.")
  Integer scramPort;

  @Option(names = "--schema-registry-port", defaultValue = "8081", description = "Port of the schema registry on localhost (default: ${DEFAULT-VALUE}; 0 turns it off).")
  int registryPort;

  @Override
  public Integer call() throws InterruptedException {
    LocalBroker broker = scramPort == null ? LocalBroker.start(port, dir) : LocalBroker.startWithScram(port, scramPort, dir);
    LocalSchemaRegistry registry = registryPort == 0 ? null : LocalSchemaRegistry.start(broker.bootstrapServers(), "127.0.0.1", registryPort);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (registry != null) registry.close();
      broker.close();
      stopped.countDown();
    }, "broker-stop"));
    System.out.println("bootstrap: " + broker.bootstrapServers());
    broker.scramBootstrapServers().ifPresent(scram -> System.out.println("scram bootstrap: " + scram));
    if (registry != null) System.out.println("schema registry: " + registry.url());
    System.out.flush();
    stopped.await();
    return 0;
  }
}
