package io.prefstream.broker;

import java.util.List;
import java.util.Map;

/** Every topic of prefstream's data flow (design notes, "Topics"), under its default name. */
public final class TopicCatalog {
  public static final String FEEDBACK_PAIRS = "feedback.pairs";
  public static final String FEEDBACK_RATINGS = "feedback.ratings";
  public static final String FEEDBACK_RANKINGS = "feedback.rankings";
  public static final String PREFERENCE_PAIRS = "preference.pairs";
  public static final String PREFERENCE_DLQ = "preference.dlq";
  public static final String MODEL_CHECKPOINTS = "model.checkpoints";
  public static final String TRAINER_METRICS = "trainer.metrics";

  /** Chunks are 1 MiB by default; the rest is room for the record, headers and a larger chunk size. */
  public static final int MODEL_TOPIC_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

  private static final long DAY_MS = 24L * 60 * 60 * 1000;
  private static final int INPUT_PARTITIONS = 3;

  private TopicCatalog() {}

  public static List<TopicSpec> all() {
    return List.of(
        new TopicSpec(FEEDBACK_PAIRS, INPUT_PARTITIONS, Map.of(), "preference pairs from apps (Avro or JSON)"),
        new TopicSpec(FEEDBACK_RATINGS, INPUT_PARTITIONS, Map.of(), "single-response ratings from apps"),
        new TopicSpec(FEEDBACK_RANKINGS, INPUT_PARTITIONS, Map.of(), "ranked responses from apps"),
        new TopicSpec(PREFERENCE_PAIRS, INPUT_PARTITIONS, Map.of(), "validated, de-duplicated training records"),
        new TopicSpec(PREFERENCE_DLQ, 1,
            Map.of("retention.ms", String.valueOf(30 * DAY_MS)), "rejected input with the reason, kept 30 days for people to inspect"),
        // Never compacted, whatever the cluster's default: a version's chunks and its manifest share
        // the model-name key, and compaction would keep only the last record of each key. Kept forever:
        // trainers restore from it and agents catch up from it; old versions are dropped by deleting
        // segments, not by time.
        new TopicSpec(MODEL_CHECKPOINTS, 1,
            Map.of("cleanup.policy", "delete", "retention.ms", "-1", "max.message.bytes", String.valueOf(MODEL_TOPIC_MAX_MESSAGE_BYTES)),
            "checkpoint chunks and manifests, keyed by model name"),
        new TopicSpec(TRAINER_METRICS, 1,
            Map.of("retention.ms", String.valueOf(7 * DAY_MS)), "training metrics per logged step"));
  }
}
