package io.prefstream.schemas.serde;

/** Confluent's TopicNameStrategy: a topic's values live under {@code <topic>-value}, keys under {@code <topic>-key}. */
final class Subjects {
  private Subjects() {}

  static String of(String topic, boolean isKey) {
    return topic + (isKey ? "-key" : "-value");
  }
}
