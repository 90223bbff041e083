package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointManifest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads the model topic once, to its end: the manifests of a model, or its newest (or a given)
 * checkpoint. The latter starts at the newest wanted manifest's first chunk, found reading back
 * from the end, so it reads one version's records however long the topic's history. Or reads
 * back from the end only, to the newest wanted manifest.
 */
public final class ModelTopicReader {
  private final Consumer<String, SpecificRecord> consumer;
  private final String topic;

  /** @param consumer read_committed, not subscribed; this reader assigns it */
  public ModelTopicReader(Consumer<String, SpecificRecord> consumer, String topic) {
    this.consumer = consumer;
    this.topic = topic;
  }

  /** Every committed manifest of the model that decodes, oldest first. */
  public List<CheckpointManifest> manifests(String model) {
    List<TopicPartition> tps = ModelTopicPartitions.assignAll(consumer, topic);
    consumer.seekToBeginning(tps);
    List<CheckpointManifest> out = new ArrayList<>();
    readTo(consumer.endOffsets(tps, ModelTopicPartitions.LIMIT), r -> {
      if (r.value() instanceof CheckpointManifest m && m.getModelName().equals(model)) out.add(m);
      return false;
    });
    return out;
  }

  /**
   * The newest manifest of the model that the filter takes, whether or not it verifies or its
   * chunks are all there (the newest by version when partitions differ); read back from the end,
   * so it costs a few records when that manifest is recent. Empty if the topic has none.
   */
  public Optional<ManifestAt> newestManifest(String model, ManifestFilter filter) {
    return ModelTopicPartitions.assignAll(consumer, topic).stream()
        .flatMap(tp -> ModelTopicPartitions.newest(consumer, tp, m -> m.getModelName().equals(model) && filter.refusal(m).isEmpty()).stream())
        .max(Comparator.comparingLong(found -> found.manifest().getVersion()));
  }

  /**
   * The given version (or the newest) of the model that the assembler verifies and the filter
   * takes, assembled in the assembler's folder; empty if the topic has none. The caller closes it.
   */
  public Optional<Checkpoint> checkpoint(String model, Optional<Long> version, CheckpointAssembler assembler, ManifestFilter filter) {
    ManifestFilter wanted = m -> version.isPresent() && version.get() != m.getVersion() ? Optional.of("not v" + version.get()) : filter.refusal(m);
    CheckpointCollector collector = new CheckpointCollector(model, assembler, wanted);
    version.ifPresent(v -> collector.raiseFloor(v - 1));
    List<TopicPartition> tps = ModelTopicPartitions.assignAll(consumer, topic);
    Map<TopicPartition, Long> end = consumer.endOffsets(tps, ModelTopicPartitions.LIMIT);
    for (TopicPartition tp : tps) {
      long start = ModelTopicPartitions.startOfNewest(consumer, tp,
          m -> m.getModelName().equals(model) && m.getVersion() > collector.floor() && wanted.refusal(m).isEmpty() && assembler.trusts(m));
      consumer.seek(tp, start);
    }
    Checkpoint[] newest = {null};
    readTo(end, r -> {
      Optional<Checkpoint> complete = collector.accept(r);
      if (complete.isEmpty()) return false;
      if (newest[0] != null) newest[0].close();
      newest[0] = complete.get();
      collector.raiseFloor(newest[0].version());
      return version.isPresent();
    });
    return Optional.ofNullable(newest[0]);
  }

  private interface RecordSink {
    /** @return true to stop reading */
    boolean accept(ConsumerRecord<String, SpecificRecord> record);
  }

  private void readTo(Map<TopicPartition, Long> end, RecordSink sink) {
    long deadline = System.nanoTime() + ModelTopicPartitions.LIMIT.toNanos();
    while (!ModelTopicPartitions.reached(consumer, end)) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("no progress reading " + topic + " to its end within " + ModelTopicPartitions.LIMIT);
      var records = ModelTopicPartitions.poll(consumer);
      if (!records.isEmpty()) deadline = System.nanoTime() + ModelTopicPartitions.LIMIT.toNanos(); // slow is fine, stuck is not
      for (ConsumerRecord<String, SpecificRecord> r : records) {
        if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition())) && sink.accept(r)) return;
      }
    }
  }
}
