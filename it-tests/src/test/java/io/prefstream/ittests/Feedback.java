package io.prefstream.ittests;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.schemas.ResponseRating;
import io.prefstream.schemas.ScoreScale;
import io.prefstream.schemas.serde.AvroSerializer;
import io.prefstream.schemas.serde.JsonSerializer;
import java.util.List;
import java.util.concurrent.Future;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Feedback as apps send it: records in Confluent-wire Avro (through the project's serializer and
 * registry) or as JSON, or any bytes at all; and valid records to start from.
 */
final class Feedback implements AutoCloseable {
  private final KafkaProducer<byte[], byte[]> producer;
  private final AvroSerializer<SpecificRecord> avro = new AvroSerializer<>();
  private final JsonSerializer<SpecificRecord> json = new JsonSerializer<>();

  Feedback(Clients clients) {
    producer = clients.producer();
    avro.configure(clients.props(), false);
  }

  Future<RecordMetadata> avro(String topic, String key, SpecificRecord record) {
    return bytes(topic, key, avro.serialize(topic, record));
  }

  Future<RecordMetadata> json(String topic, String key, SpecificRecord record) {
    return bytes(topic, key, json.serialize(topic, record));
  }

  /** @param value any bytes, or null for a tombstone */
  Future<RecordMetadata> bytes(String topic, String key, byte[] value) {
    return producer.send(new ProducerRecord<>(topic, key.getBytes(UTF_8), value));
  }

  void flush() {
    producer.flush();
  }

  /** A valid pair: text the byte-level tokenizer reads, timed now. */
  static PreferencePair.Builder pair(String eventId) {
    return PreferencePair.newBuilder().setEventId(eventId).setPromptId("prompt-" + eventId).setPrompt("Question " + eventId + "?")
        .setChosen("A helpful answer.").setRejected("No.").setEventTime(System.currentTimeMillis());
  }

  /** A valid ranking of three responses, best first. */
  static RankedResponses.Builder ranking(String eventId) {
    return RankedResponses.newBuilder().setEventId(eventId).setPromptId("prompt-" + eventId).setPrompt("Question " + eventId + "?")
        .setResponses(List.of("A helpful answer.", "An answer.", "No.")).setEventTime(System.currentTimeMillis());
  }

  /** A valid five-star rating of one response. */
  static ResponseRating.Builder rating(String eventId, String promptId, String responseId, double stars, long eventTime) {
    return ResponseRating.newBuilder().setEventId(eventId).setPromptId(promptId).setPrompt("Question " + promptId + "?")
        .setResponseId(responseId).setResponse("Response " + responseId + ".").setScore(stars).setScale(ScoreScale.STARS_5).setEventTime(eventTime);
  }

  @Override
  public void close() {
    producer.close();
  }
}
