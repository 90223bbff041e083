package io.prefstream.ingest;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.Result;
import org.junit.jupiter.api.Test;

class DeadLetterTest {
  private static final Rejection WHY = new Rejection(Reason.TOO_LARGE, "too big");

  @Test
  void fitting_keepsASmallRecordWhole() {
    DeadLetter letter = new DeadLetter("k".getBytes(UTF_8), new byte[100], WHY, "t", 0, 7);
    DeadLetter.Copy copy = letter.fitting(1 << 20);
    assertThat(copy.value()).hasSize(100);
    assertThat(copy.headers().lastHeader(DeadLetter.VALUE_TRUNCATED)).isNull();
  }

  @Test
  void fitting_cutsValueAndKeyToFitTheRequest_andSaysSo() {
    byte[] value = new byte[3 << 20];
    Arrays.fill(value, (byte) 7);
    DeadLetter letter = new DeadLetter(new byte[10_000], value, WHY, "t", 0, 7);
    DeadLetter.Copy copy = letter.fitting(1 << 20);
    assertThat(copy.key().length + copy.value().length).isLessThanOrEqualTo((1 << 20) - DeadLetter.HEADROOM_BYTES);
    assertThat(new String(copy.headers().lastHeader(DeadLetter.VALUE_TRUNCATED).value(), UTF_8)).isEqualTo(String.valueOf(3 << 20));
    assertThat(new String(copy.headers().lastHeader(DeadLetter.KEY_TRUNCATED).value(), UTF_8)).isEqualTo("10000");
    assertThat(new String(copy.headers().lastHeader(DeadLetter.REASON).value(), UTF_8)).isEqualTo("too_large");
  }

  @Test
  void writeHandler_skipsARefusedDeadLetter_butFailsOnAnyOtherTopic() {
    DeadLetterWriteHandler handler = new DeadLetterWriteHandler();
    handler.configure(Map.of(DeadLetterWriteHandler.DLQ_TOPIC, "preference.dlq"));
    var tooLarge = new RecordTooLargeException("the broker said no");
    var context = new org.apache.kafka.streams.errors.internals.DefaultErrorHandlerContext(
        null, "feedback.pairs", 0, 9, null, "dead-letter-pairs", null, 0, null, null);
    assertThat(handler.handleError(context, new ProducerRecord<>("preference.dlq", new byte[1]), tooLarge).result()).isEqualTo(Result.RESUME);
    assertThat(handler.handleError(context, new ProducerRecord<>("preference.pairs", new byte[1]), tooLarge).result()).isEqualTo(Result.FAIL);
  }
}
