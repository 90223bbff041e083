package io.prefstream.publisher;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.schemas.CheckpointFile;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.testkit.KafkaBroker;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint with a file over 2 GiB: cut by streaming, published, and reassembled in a child JVM
 * whose heap (256 MiB) could not hold a tenth of it. The file is sparse zeros and the producer
 * compresses, so the source and the broker's log take next to no disk; only the reassembled copy does.
 */
class LargeCheckpointTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final long SIZE = (2L << 30) + (3 << 20) + 7; // past Integer.MAX_VALUE, not a multiple of the chunk
  private static final int CHUNK = 8 << 20;
  private static final String SCOPE = "large-checkpoint";

  @TempDir Path tmp;

  @Test
  void fileOverTwoGigabytes_publishedAndReassembledInASmallHeap() throws Exception {
    String topic = "it-model.large";
    try (Admin admin = Admin.create(broker.adminProps())) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(Map.of("max.message.bytes", String.valueOf(CHUNK + (1 << 20)))))).all().get();
    }
    Path source = Files.createDirectories(tmp.resolve("source"));
    Files.writeString(source.resolve("config.json"), "{}");
    try (RandomAccessFile big = new RandomAccessFile(source.resolve("optimizer.bin").toFile(), "rw")) {
      big.setLength(SIZE);
      big.seek(SIZE - 5);
      big.write("tail!".getBytes(StandardCharsets.US_ASCII));
    }
    Map<String, Object> props = new HashMap<>(broker.producerProps());
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "large-checkpoint");
    props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, CHUNK + (1 << 20));
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 900_000); // the broker's maximum: 2 GiB on a busy machine takes minutes
    Map<String, Object> serde = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://" + SCOPE);
    CheckpointManifest published;
    try (var producer = new KafkaProducer<String, SpecificRecord>(props, new StringSerializer(), ModelTopic.serializer(serde))) {
      producer.initTransactions();
      producer.beginTransaction();
      published = new CheckpointPublisher(topic, new CheckpointCutter(CHUNK), ManifestSigner.NONE).publish(producer, source, null, Fixtures.manifest("m", 1, 0.9));
      producer.commitTransaction();
    }
    CheckpointFile big = published.getFiles().stream().filter(f -> f.getPath().equals("optimizer.bin")).findFirst().orElseThrow();
    assertThat(big.getSize()).isEqualTo(SIZE);

    Path out = tmp.resolve("out");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "-Xmx256m", "-Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.prefstream", "-cp", System.getProperty("java.class.path"),
        ReassembleMain.class.getName(), broker.bootstrapServers(), topic, SCOPE, out.toString()).redirectErrorStream(true).start();
    String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(child.waitFor(5, TimeUnit.MINUTES)).isTrue();
    assertThat(child.exitValue()).as(output).isZero();
    System.out.println(output.lines().filter(l -> l.startsWith("RESULT")).findFirst().orElse("no RESULT line"));

    // the child verified the copy against the manifest's SHA-256, which the cutter took from the source; spot-check it here
    Path copy = out.resolve("1/optimizer.bin");
    try (RandomAccessFile file = new RandomAccessFile(copy.toFile(), "r")) {
      assertThat(file.length()).isEqualTo(SIZE);
      byte[] tail = new byte[5];
      file.seek(SIZE - 5);
      file.readFully(tail);
      assertThat(new String(tail, StandardCharsets.US_ASCII)).isEqualTo("tail!");
      file.seek(Integer.MAX_VALUE + 1L);
      assertThat(file.read()).isZero();
    } finally {
      Files.deleteIfExists(copy);
    }
  }
}
