package io.prefstream.trainer.tokenize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ByteLevelTokenizerTest {

  private static final String TEXT = "Hello, wörld!\n\ttabs  spaces ✓ 日本語 \u0000\u007f";

  @TempDir Path dir;

  @Test
  void encode_givesUtf8Bytes() {
    ByteLevelTokenizer.writeTo(dir, 128);
    try (TextTokenizer tokenizer = TextTokenizer.fromFolder(dir)) {
      byte[] bytes = TEXT.getBytes(StandardCharsets.UTF_8);
      int[] expected = new int[bytes.length];
      for (int i = 0; i < bytes.length; i++) {
        expected[i] = bytes[i] & 0xff;
      }
      assertThat(tokenizer.encode(TEXT)).containsExactly(expected);
    }
  }

  @Test
  void decode_roundTripsEveryByteSequenceOfText() {
    ByteLevelTokenizer.writeTo(dir, 128);
    try (TextTokenizer tokenizer = TextTokenizer.fromFolder(dir)) {
      assertThat(tokenizer.decode(tokenizer.encode(TEXT))).isEqualTo(TEXT);
    }
  }

  @Test
  void eosId_isTheEndOfTextToken() {
    ByteLevelTokenizer.writeTo(dir, 128);
    try (TextTokenizer tokenizer = TextTokenizer.fromFolder(dir)) {
      assertThat(tokenizer.eosId()).hasValue(ByteLevelTokenizer.EOS_ID);
      assertThat(tokenizer.decode(new int[] {'h', 'i', ByteLevelTokenizer.EOS_ID})).isEqualTo("hi" + ByteLevelTokenizer.EOS);
    }
  }

  @Test
  void encode_longTextIsNotTruncated() {
    ByteLevelTokenizer.writeTo(dir, 128);
    try (TextTokenizer tokenizer = TextTokenizer.fromFolder(dir)) {
      assertThat(tokenizer.encode("ab ".repeat(1000))).hasSize(3000);
    }
  }

  @Test
  void byteToChar_mapsEveryByteToADistinctCharacter() {
    assertThat(java.util.stream.IntStream.range(0, 256).map(ByteLevelTokenizer::byteToChar).distinct().count()).isEqualTo(256);
    assertThat(ByteLevelTokenizer.byteToChar(' ')).isEqualTo(0x120); // GPT-2's 'Ġ'
  }

  @Test
  void fromFolder_withoutTokenizerJsonNamesTheFolder() throws Exception {
    Files.writeString(dir.resolve("config.json"), "{}");
    assertThatThrownBy(() -> TextTokenizer.fromFolder(dir))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(dir.toString())
        .hasMessageContaining("tokenizer.json");
  }
}
