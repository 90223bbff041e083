package io.prefstream.testkit;

import java.nio.file.Files;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;

/** Chooses and starts the broker: a container where Docker runs, else Kafka's in-JVM test kit. */
final class BrokerBackends {
  private static final Logger log = LoggerFactory.getLogger(BrokerBackends.class);
  private static final String KAFKA_IMAGE = "apache/kafka:4.1.1";

  private BrokerBackends() {}

  static RunningBroker start() {
    long started = System.nanoTime();
    RunningBroker broker = dockerAvailable() ? container() : inJvm();
    log.info("Kafka broker at {} ready in {} ms", broker.bootstrapServers(), (System.nanoTime() - started) / 1_000_000);
    return broker;
  }

  private static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError | java.util.ServiceConfigurationError e) {
      return false; // no daemon, no socket: the in-JVM broker is as real
    }
  }

  private static RunningBroker container() {
    KafkaContainer kafka = new KafkaContainer(KAFKA_IMAGE);
    kafka.start();
    return new RunningBroker() {
      @Override public String bootstrapServers() { return kafka.getBootstrapServers(); }
      @Override public void close() { kafka.stop(); }
    };
  }

  private static RunningBroker inJvm() {
    try {
      KafkaClusterTestKit cluster =
          new KafkaClusterTestKit.Builder(
                  new TestKitNodes.Builder()
                      .setCombined(true)
                      .setNumBrokerNodes(1)
                      .setNumControllerNodes(1)
                      .setBootstrapMetadataVersion(MetadataVersion.latestProduction())
                      // Our own folder, which close() deletes once the broker is down. The test kit's
                      // default folder is deleted by a shutdown hook of its own, concurrently with the
                      // hook that closes the broker: the broker then lost its log dir while shutting
                      // down and now and then halted the test JVM with status 1 after every test passed.
                      .setBaseDirectory(Files.createTempDirectory("prefstream-kafka-"))
                      .build())
              // one node: internal topics cannot have more replicas than that
              .setConfigProp("offsets.topic.replication.factor", "1")
              .setConfigProp("offsets.topic.num.partitions", "4")
              .setConfigProp("transaction.state.log.replication.factor", "1")
              .setConfigProp("transaction.state.log.min.isr", "1")
              .setConfigProp("transaction.state.log.num.partitions", "4")
              .setConfigProp("group.initial.rebalance.delay.ms", "0")
              .setConfigProp("share.coordinator.state.topic.replication.factor", "1")
              .setConfigProp("share.coordinator.state.topic.min.isr", "1")
              .build();
      RunningBroker running = new RunningBroker() {
        @Override public String bootstrapServers() { return cluster.bootstrapServers(); }
        @Override public void close() {
          try {
            cluster.close(); // also deletes its folder
          } catch (Exception e) {
            log.warn("in-JVM broker did not stop cleanly", e);
          }
        }
      };
      try {
        cluster.format();
        cluster.startup();
        cluster.waitForReadyBrokers();
      } catch (Exception | Error e) {
        running.close();
        throw e;
      }
      return running;
    } catch (Exception e) {
      throw new IllegalStateException("could not start the in-JVM Kafka broker: " + e.getMessage(), e);
    }
  }
}
