package io.prefstream.ingest;

import io.prefstream.schemas.serde.WireFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes accepted records to preference.pairs, passing a record's input bytes through unencoded
 * when validation changed nothing in it and its input schema id is the one the output carries for
 * its schema: the same schema id and the same values, so any reader reads the record that
 * re-encoding would have written, and ingest saves a fifth of its work per pair. Whether an input
 * schema id is the output's is learnt by writing the first record of each id the usual way, which
 * also registers the schema under the output subject. Records of another schema (a producer a
 * version ahead or behind), JSON input and normalised records are encoded as usual.
 */
final class AcceptedSerializer implements Serializer<Admitted.Accepted> {
  private final Serializer<SpecificRecord> encoder;
  /** Per input schema id: whether the output writes that id too. Kafka Streams may share a serializer between its threads. */
  private final Map<Integer, Boolean> outputKeepsId = new ConcurrentHashMap<>();

  AcceptedSerializer(Serializer<SpecificRecord> encoder) {
    this.encoder = encoder;
  }

  @Override
  public byte[] serialize(String topic, Admitted.Accepted accepted) {
    byte[] input = accepted.unchangedBytes();
    if (input == null) return encoder.serialize(topic, accepted.record());
    int inputId = WireFormat.schemaId(input);
    Boolean keepsId = outputKeepsId.get(inputId);
    if (keepsId != null) return keepsId ? input : encoder.serialize(topic, accepted.record());
    byte[] encoded = encoder.serialize(topic, accepted.record());
    outputKeepsId.put(inputId, WireFormat.schemaId(encoded) == inputId);
    return encoded;
  }
}
