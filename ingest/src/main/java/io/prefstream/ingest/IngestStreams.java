package io.prefstream.ingest;

import java.util.Properties;
import org.apache.kafka.streams.KafkaStreams;

/** The ingest service's Kafka Streams client: its topology under its properties, and its answer to a failed stream thread. */
public final class IngestStreams {
  private IngestStreams() {}

  /** A client not yet started. */
  public static KafkaStreams create(IngestConfig config, IngestMetrics metrics) {
    Properties props = new Properties();
    props.putAll(config.streamsProperties());
    KafkaStreams streams = new KafkaStreams(IngestTopology.build(config, metrics), props);
    streams.setUncaughtExceptionHandler(new StreamThreadFailures());
    return streams;
  }
}
