package io.prefstream.trainer.tokenize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the EOS id comes from, for folders Hugging Face wrote rather than init-model. */
class TextTokenizerTest {

  @TempDir Path dir;

  @Test
  void eosId_readsTokenizerConfigsEosTokenInObjectForm() throws Exception {
    ByteLevelTokenizer.writeTo(dir, 64);
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": {\"content\": \"<|endoftext|>\", \"special\": true}}");
    try (TextTokenizer tokenizer = TextTokenizer.fromFolder(dir)) {
      assertThat(tokenizer.eosId()).hasValue(ByteLevelTokenizer.EOS_ID);
    }
  }

  @Test
  void eosId_fallsBackToConfigJsonsFirstEosTokenId() throws Exception {
    ByteLevelTokenizer.writeTo(dir, 64);
    Files.delete(dir.resolve("tokenizer_config.json"));
    Files.writeString(dir.resolve("config.json"), "{\"eos_token_id\": [97, 98]}");
    try (TextTokenizer tokenizer = TextTokenizer.fromFolder(dir)) {
      assertThat(tokenizer.eosId()).hasValue(97);
    }
  }

  @Test
  void eosId_isEmptyWhenNothingNamesOne() throws Exception {
    ByteLevelTokenizer.writeTo(dir, 64);
    Files.delete(dir.resolve("tokenizer_config.json"));
    try (TextTokenizer tokenizer = TextTokenizer.fromFolder(dir)) {
      assertThat(tokenizer.eosId()).isEmpty();
    }
  }

  @Test
  void fromFolder_eosTokenTheTokenizerLacksIsNamed() throws Exception {
    ByteLevelTokenizer.writeTo(dir, 64);
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"</s>\"}");
    assertThatThrownBy(() -> TextTokenizer.fromFolder(dir)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("</s>");
  }
}
