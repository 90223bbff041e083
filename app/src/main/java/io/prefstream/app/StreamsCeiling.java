package io.prefstream.app;

import io.prefstream.ingest.IdleCommit;
import io.prefstream.ingest.IngestConfig;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The ceilings {@code bench ingest} puts above the ingest topology: Kafka Streams topologies that
 * copy the input's bytes to the output under ingest's own Kafka Streams settings (exactly-once v2,
 * its commit interval, producer settings and commit when idle) and do none of ingest's work. What
 * they reach is what Kafka Streams and its guarantees cost on the machine, apart from ingest's
 * decoding, validation, de-duplication and encoding.
 *
 * <ul>
 *   <li>{@link #passThrough}: read, forward, write;
 *   <li>{@link #stored}: the same, and one put per record into a persistent key-value store with a
 *       changelog (RocksDB and one changelog record per pair, as ingest's de-duplication writes).
 * </ul>
 */
final class StreamsCeiling {
  static final String STORE = "bench-seen-offsets";

  private StreamsCeiling() {}

  static Topology passThrough(String in, String out, IngestConfig config) {
    return topology(in, out, config, false);
  }

  static Topology stored(String in, String out, IngestConfig config) {
    return topology(in, out, config, true);
  }

  /** Ingest's Kafka Streams properties under another application id (and so other state and another group). */
  static Map<String, Object> streamsProperties(IngestConfig config, String applicationId) {
    Map<String, Object> props = new HashMap<>(config.streamsProperties());
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    return props;
  }

  private static Topology topology(String in, String out, IngestConfig config, boolean store) {
    Topology topology = new Topology();
    topology.addSource("read", Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(), in);
    topology.addProcessor("copy", () -> new Copy(new IdleCommit(config.commitWhenIdle()), store), "read");
    if (store) {
      topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.Long(), Serdes.Long()), "copy");
    }
    topology.addSink("write", out, Serdes.ByteArray().serializer(), Serdes.ByteArray().serializer(), "copy");
    return topology;
  }

  /** Forwards each record as it is; with a store, first puts its input offset there. */
  private static final class Copy implements Processor<byte[], byte[], byte[], byte[]> {
    private final IdleCommit idleCommit;
    private final boolean store;
    private ProcessorContext<byte[], byte[]> context;
    private KeyValueStore<Long, Long> seen;

    Copy(IdleCommit idleCommit, boolean store) {
      this.idleCommit = idleCommit;
      this.store = store;
    }

    @Override
    public void init(ProcessorContext<byte[], byte[]> context) {
      this.context = context;
      if (store) seen = context.getStateStore(STORE);
      idleCommit.start(context);
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
      idleCommit.processed();
      if (seen != null) seen.put(context.recordMetadata().orElseThrow().offset(), record.timestamp());
      context.forward(record);
    }
  }
}
