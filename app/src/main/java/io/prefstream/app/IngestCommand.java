package io.prefstream.app;

import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.ingest.IngestMetrics;
import io.prefstream.ingest.IngestPreflight;
import io.prefstream.ingest.IngestStreams;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "ingest",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the ingest service: feedback topics -> validated, de-duplicated preference.pairs; bad input -> preference.dlq.",
      "The properties file takes ingest's settings (see README) and any Kafka Streams / client property (SASL, TLS, schema.registry.*)."
    })
final class IngestCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(IngestCommand.class);

  @Option(names = "--config", required = true, description = "Properties file.")
  Path config;

  @Override
  public Integer call() throws InterruptedException {
    IngestConfig ingest = IngestConfig.parse(ClientProperties.load(config));
    IngestPreflight.check(ingest, Duration.ofSeconds(30));
    log.info("ingest state in {} (state.dir moves it)", ingest.stateDir().toAbsolutePath());
    CountDownLatch stopped = new CountDownLatch(1);
    try (MetricsEndpoint endpoint = new MetricsEndpoint(ingest.metricsHost(), ingest.metricsPort())) {
      KafkaStreams streams = IngestStreams.create(ingest, new IngestMetrics(endpoint.registry()));
      new KafkaStreamsMetrics(streams).bindTo(endpoint.registry());
      streams.setStateListener((now, before) -> {
        log.info("ingest {} -> {}", before, now);
        if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) stopped.countDown();
      });
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        streams.close(Duration.ofSeconds(30));
        stopped.countDown();
      }, "ingest-stop"));
      streams.start();
      log.info("ingest running; metrics: {}", endpoint.url());
      stopped.await();
      return streams.state() == KafkaStreams.State.ERROR ? 1 : 0;
    }
  }
}
