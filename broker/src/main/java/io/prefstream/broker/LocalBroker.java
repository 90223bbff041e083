package io.prefstream.broker;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node Kafka (KRaft, broker and controller in one process) run with Kafka's own server
 * code: the embedded default for the demo and for {@code prefstream broker}.
 *
 * <p>The data folder is formatted on first start and reused afterwards (its {@code
 * meta.properties} keeps the cluster id), so topics and records survive a restart.
 *
 * <p>Optionally a second client listener takes SASL_PLAINTEXT with SCRAM-SHA-256 logins; the
 * controller and inter-broker traffic stay on plaintext, so users can be created with the Admin
 * API's {@code alterUserScramCredentials} over the plaintext listener.
 */
public final class LocalBroker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalBroker.class);
  private static final int NODE_ID = 1;
  private static final String CONTROLLER_LISTENER = "CONTROLLER";
  private static final String SCRAM_LISTENER = "SASL_PLAINTEXT";
  public static final String SCRAM_MECHANISM = "SCRAM-SHA-256";

  private final KafkaRaftServer server;
  private final int port;
  private final OptionalInt scramPort;
  private final Path dataDir;

  private LocalBroker(KafkaRaftServer server, int port, OptionalInt scramPort, Path dataDir) {
    this.server = server;
    this.port = port;
    this.scramPort = scramPort;
    this.dataDir = dataDir;
  }

  /**
   * Starts a broker listening on localhost.
   *
   * @param port the client port; 0 picks a free one
   * @param dataDir where logs and metadata live; created and formatted when new
   */
  public static LocalBroker start(int port, Path dataDir) {
    return start(port, OptionalInt.empty(), dataDir);
  }

  /**
   * Starts a broker with a SASL_PLAINTEXT listener taking SCRAM-SHA-256 logins next to the
   * plaintext one.
   *
   * @param port the plaintext client port; 0 picks a free one
   * @param scramPort the SASL_PLAINTEXT client port; 0 picks a free one
   * @param dataDir where logs and metadata live; created and formatted when new
   */
  public static LocalBroker startWithScram(int port, int scramPort, Path dataDir) {
    return start(port, OptionalInt.of(scramPort == 0 ? freePort() : scramPort), dataDir);
  }

  private static LocalBroker start(int port, OptionalInt scramPort, Path dataDir) {
    int brokerPort = port == 0 ? freePort() : port;
    int controllerPort = freePort();
    try {
      Files.createDirectories(dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create broker data folder " + dataDir, e);
    }
    Properties props = serverProperties(brokerPort, controllerPort, dataDir);
    scramPort.ifPresent(p -> addScramListener(props, p));
    KafkaConfig config = KafkaConfig.fromProps(props, false);
    format(dataDir);
    KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
    try {
      server.startup();
    } catch (RuntimeException e) {
      throw new IllegalStateException("Kafka broker on port " + brokerPort + " did not start: " + e.getMessage(), e);
    }
    LocalBroker broker = new LocalBroker(server, brokerPort, scramPort, dataDir);
    log.info("Kafka broker up at {}{} (data in {})", broker.bootstrapServers(),
        broker.scramBootstrapServers().map(s -> ", SCRAM at " + s).orElse(""), dataDir);
    return broker;
  }

  public String bootstrapServers() {
    return "localhost:" + port;
  }

  /** The plaintext client port: a restart on the same port lets running clients reconnect. */
  public int port() {
    return port;
  }

  /** The SASL_PLAINTEXT (SCRAM-SHA-256) listener's address, when the broker has one. */
  public Optional<String> scramBootstrapServers() {
    return scramPort.isPresent() ? Optional.of("localhost:" + scramPort.getAsInt()) : Optional.empty();
  }

  public Path dataDir() {
    return dataDir;
  }

  @Override
  public void close() {
    server.shutdown();
    server.awaitShutdown();
    log.info("Kafka broker at {} stopped", bootstrapServers());
  }

  private static Properties serverProperties(int brokerPort, int controllerPort, Path dataDir) {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", String.valueOf(NODE_ID));
    p.put("controller.quorum.voters", NODE_ID + "@localhost:" + controllerPort);
    p.put("listeners", "PLAINTEXT://localhost:" + brokerPort + "," + CONTROLLER_LISTENER + "://localhost:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://localhost:" + brokerPort);
    p.put("controller.listener.names", CONTROLLER_LISTENER);
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
    p.put("log.dirs", dataDir.toAbsolutePath().toString());
    // a single node: no internal topic can have more than one replica
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "4");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "4");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("num.partitions", "1");
    // checkpoint chunks are 1 MiB by default: leave headroom for the record around them
    p.put("message.max.bytes", String.valueOf(TopicCatalog.MODEL_TOPIC_MAX_MESSAGE_BYTES));
    return p;
  }

  private static void addScramListener(Properties p, int scramPort) {
    String listener = SCRAM_LISTENER + "://localhost:" + scramPort;
    p.put("listeners", p.getProperty("listeners") + "," + listener);
    p.put("advertised.listeners", p.getProperty("advertised.listeners") + "," + listener);
    p.put("listener.security.protocol.map", p.getProperty("listener.security.protocol.map") + "," + SCRAM_LISTENER + ":SASL_PLAINTEXT");
    p.put("sasl.enabled.mechanisms", SCRAM_MECHANISM);
    // the broker side of SCRAM needs the login module only; the credentials live in the metadata log
    p.put("listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;");
  }

  /** Formats a new data folder; a formatted one is left as it is. */
  private static void format(Path dataDir) {
    if (Files.exists(dataDir.resolve("meta.properties"))) return;
    try {
      new Formatter()
          .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
          .setNodeId(NODE_ID)
          .setClusterId(Uuid.randomUuid().toString())
          .setDirectories(List.of(dataDir.toAbsolutePath().toString()))
          .setMetadataLogDirectory(dataDir.toAbsolutePath().toString())
          .setReleaseVersion(MetadataVersion.latestProduction())
          .setControllerListenerName(CONTROLLER_LISTENER)
          .setIgnoreFormatted(true)
          .run();
    } catch (Exception e) {
      throw new IllegalStateException("cannot format Kafka data folder " + dataDir + ": " + e.getMessage(), e);
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free local port", e);
    }
  }
}
