package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointChunk;
import io.prefstream.schemas.serde.SerdeConfig;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * {@code checkpoints get} in a JVM of its own (the test gives it a small heap): reads the newest
 * checkpoint of model "m" into {@code OUT/<version>} and prints its folder, then a RESULT line.
 * Args: bootstrap servers, topic, registry scope, OUT.
 */
final class ReassembleMain {
  private ReassembleMain() {}

  public static void main(String[] args) throws Exception {
    long start = System.nanoTime();
    Map<String, Object> serde = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://" + args[2]);
    learnSchemaIds(serde);
    Map<String, Object> props = ModelTopic.consumerProps(serde); // the commands' settings
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "reassemble");
    props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 << 20); // this test's chunks are 8 MiB
    VersionFolders out = new VersionFolders(Path.of(args[3]));
    try (var consumer = new KafkaConsumer<String, SpecificRecord>(props, new StringDeserializer(), ModelTopic.deserializer(serde));
        var assembler = new CheckpointAssembler(Optional.empty(), out.workDir(), PendingChunks.Limits.DEFAULT);
        Checkpoint newest = new ModelTopicReader(consumer, args[1]).checkpoint("m", Optional.empty(), assembler, ManifestFilter.ANY).orElseThrow()) {
      System.out.println("folder " + out.install(newest.version(), newest.serving()));
    }
    System.out.println("RESULT reassembled_bytes=" + Files.size(out.folder(1).resolve("optimizer.bin")) + " max_heap_mib=" + (Runtime.getRuntime().maxMemory() >> 20)
        + " seconds=" + (System.nanoTime() - start) / 1_000_000_000);
  }

  /** The test JVM's in-memory registry gave the chunk schema id 1 and the manifest's id 2: this JVM's learns them in that order. */
  private static void learnSchemaIds(Map<String, Object> serde) {
    var serializer = ModelTopic.serializer(serde);
    serializer.serialize("ids", CheckpointChunk.newBuilder().setModelName("m").setVersion(0).setIndex(0).setPath("p").setOffset(0)
        .setData(ByteBuffer.allocate(0)).setSha256("").build());
    serializer.serialize("ids", Fixtures.manifest("m", 0, 0).build());
  }
}
