package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointChunk;
import io.prefstream.schemas.CheckpointManifest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.security.PublicKey;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/** Reads the model topic once, to its end: the manifests of a model, or one checkpoint of it. */
public final class ModelTopicReader {
  private static final Duration LIMIT = Duration.ofMinutes(2);
  private final Consumer<String, SpecificRecord> consumer;
  private final String topic;

  /** @param consumer read_committed, not subscribed; this reader assigns it */
  public ModelTopicReader(Consumer<String, SpecificRecord> consumer, String topic) {
    this.consumer = consumer;
    this.topic = topic;
  }

  /** Every committed manifest of the model, oldest first. */
  public List<CheckpointManifest> manifests(String model) {
    List<CheckpointManifest> out = new ArrayList<>();
    readAll(r -> {
      if (r instanceof CheckpointManifest m && m.getModelName().equals(model)) out.add(m);
    });
    return out;
  }

  /** The given version (or the newest) of the model, verified; empty if the topic has none. */
  public Optional<Checkpoint> checkpoint(String model, Optional<Long> version, Optional<PublicKey> signer) {
    CheckpointAssembler assembler = new CheckpointAssembler(signer);
    List<CheckpointManifest> manifests = new ArrayList<>();
    readAll(r -> {
      if (r instanceof CheckpointChunk c && c.getModelName().equals(model) && version.map(v -> v == c.getVersion()).orElse(true)) assembler.add(c);
      if (r instanceof CheckpointManifest m && m.getModelName().equals(model) && version.map(v -> v == m.getVersion()).orElse(true)) manifests.add(m);
    });
    if (manifests.isEmpty()) return Optional.empty();
    return Optional.of(assembler.complete(manifests.get(manifests.size() - 1)));
  }

  private void readAll(java.util.function.Consumer<SpecificRecord> sink) {
    List<PartitionInfo> partitions = consumer.partitionsFor(topic, LIMIT);
    if (partitions == null || partitions.isEmpty()) throw new IllegalStateException("topic " + topic + " does not exist");
    List<TopicPartition> tps = partitions.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    consumer.assign(tps);
    consumer.seekToBeginning(tps);
    Map<TopicPartition, Long> end = consumer.endOffsets(tps, LIMIT);
    long deadline = System.nanoTime() + LIMIT.toNanos();
    while (tps.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("could not read " + topic + " to its end within " + LIMIT);
      consumer.poll(Duration.ofMillis(200)).forEach(r -> sink.accept(r.value()));
    }
  }
}
