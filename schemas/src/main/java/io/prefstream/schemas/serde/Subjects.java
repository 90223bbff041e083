package io.prefstream.schemas.serde;

import org.apache.avro.Schema;
import org.apache.kafka.common.config.ConfigException;

/** Confluent's subject naming strategies: under which registry subject a schema is registered. */
final class Subjects {
  private Subjects() {}

  /** The strategies, by Confluent's class names. */
  enum Strategy {
    /** {@code <topic>-value} / {@code <topic>-key}: one record type per topic (the default). */
    TOPIC_NAME,
    /** The record's full name: one record type across topics. */
    RECORD_NAME,
    /** {@code <topic>-<record full name>}: several record types on one topic. */
    TOPIC_RECORD_NAME;

    static Strategy parse(String key, String value) {
      String simple = value.substring(value.lastIndexOf('.') + 1);
      return switch (simple) {
        case "TopicNameStrategy" -> TOPIC_NAME;
        case "RecordNameStrategy" -> RECORD_NAME;
        case "TopicRecordNameStrategy" -> TOPIC_RECORD_NAME;
        default -> throw new ConfigException(key, value, "use TopicNameStrategy, RecordNameStrategy or TopicRecordNameStrategy");
      };
    }

    String subject(String topic, boolean isKey, Schema schema) {
      return switch (this) {
        case TOPIC_NAME -> topic + (isKey ? "-key" : "-value");
        case RECORD_NAME -> schema.getFullName();
        case TOPIC_RECORD_NAME -> topic + "-" + schema.getFullName();
      };
    }
  }
}
