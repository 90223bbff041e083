package io.prefstream.broker;

import java.util.Map;

/**
 * A topic prefstream reads or writes, with the settings it needs.
 *
 * @param partitions the default partition count; {@code topics create --partitions} overrides it
 * @param configs topic-level configs set at creation
 */
public record TopicSpec(String name, int partitions, Map<String, String> configs, String purpose) {
  public TopicSpec {
    if (name.isBlank()) throw new IllegalArgumentException("topic name must not be blank");
    if (partitions < 1) throw new IllegalArgumentException("topic " + name + ": partitions must be >= 1, got " + partitions);
    configs = Map.copyOf(configs);
  }
}
