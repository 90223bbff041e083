package io.prefstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.serde.AvroSerializer;
import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.schemas.serde.WireFormat;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

class AcceptedSerializerTest {
  private final Map<String, Object> registry = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://accepted-" + UUID.randomUUID());

  private static PreferencePair pair(String id) {
    return PreferencePair.newBuilder().setEventId(id).setPromptId("p1").setPrompt("Say hi").setChosen("Hi!").setRejected("Go away.").setEventTime(1L).build();
  }

  private AvroSerializer<SpecificRecord> encoder() {
    AvroSerializer<SpecificRecord> s = new AvroSerializer<>();
    s.configure(registry, false);
    return s;
  }

  @Test
  void inputBytesUnderAnotherSchemaIdThanTheOutputs_areReencodedEveryTime() {
    AcceptedSerializer serializer = new AcceptedSerializer(encoder());
    byte[] encoded = encoder().serialize("preference.pairs", pair("a"));
    int outputId = WireFormat.schemaId(encoded);
    byte[] underOtherId = WireFormat.frame(outputId + 1, java.util.Arrays.copyOfRange(encoded, WireFormat.HEADER_LENGTH, encoded.length));
    for (int i = 0; i < 2; i++) {
      byte[] written = serializer.serialize("preference.pairs", new Admitted.Accepted(pair("a"), underOtherId));
      assertThat(written).isEqualTo(encoded);
    }
  }

  @Test
  void inputBytesUnderTheOutputsSchemaId_passThroughOnceTheIdIsKnown() {
    AcceptedSerializer serializer = new AcceptedSerializer(encoder());
    byte[] first = encoder().serialize("feedback.pairs", pair("a"));
    byte[] second = encoder().serialize("feedback.pairs", pair("b"));
    assertThat(serializer.serialize("preference.pairs", new Admitted.Accepted(pair("a"), first))).isEqualTo(first).isNotSameAs(first);
    assertThat(serializer.serialize("preference.pairs", new Admitted.Accepted(pair("b"), second))).isSameAs(second);
    assertThat(serializer.serialize("preference.pairs", new Admitted.Accepted(pair("c")))).isEqualTo(encoder().serialize("preference.pairs", pair("c")));
  }
}
