package io.prefstream.app;

import io.prefstream.broker.TopicCatalog;
import io.prefstream.broker.TopicCreator;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "topics",
    mixinStandardHelpOptions = true,
    description = "Manages prefstream's topics.",
    subcommands = TopicsCommand.Create.class)
final class TopicsCommand {

  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description = "Creates every prefstream topic that does not exist yet; prints one line per topic.")
  static final class Create implements Callable<Integer> {
    @Option(names = "--bootstrap", required = true, description = "Kafka bootstrap servers, host:port[,host:port].")
    String bootstrap;

    @Option(names = "--partitions", description = "Partitions for every topic (default: each topic's own).")
    Integer partitions;

    @Option(names = "--replication-factor", defaultValue = "1", description = "Replicas per partition (default: ${DEFAULT-VALUE}).")
    short replicationFactor;

    @Option(names = "--command-config", description = "Kafka client properties file (SASL, TLS), passed through as is.")
    Path commandConfig;

    @Override
    public Integer call() {
      var creator = new TopicCreator(bootstrap, ClientProperties.load(commandConfig), TopicCreator.DEFAULT_TIMEOUT);
      for (TopicCreator.Outcome o : creator.create(TopicCatalog.all(), partitions, replicationFactor)) {
        System.out.println(o.topic() + " " + (o.created() ? "created" : "exists"));
      }
      return 0;
    }
  }
}
