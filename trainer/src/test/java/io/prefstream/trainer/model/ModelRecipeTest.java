package io.prefstream.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.trainer.tokenize.TextTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRecipeTest {

  private static final ModelRecipe LLAMA = new ModelRecipe(ModelRecipe.Arch.LLAMA, 300, 2, 16, 4, 2, 32, 64, false);

  @TempDir Path dir;

  @Test
  void writeRandom_sameSeedGivesIdenticalFolders() throws Exception {
    LLAMA.writeRandom(5, dir.resolve("a"));
    LLAMA.writeRandom(5, dir.resolve("b"));
    for (String file : new String[] {ModelFolder.CONFIG, ModelFolder.WEIGHTS, "tokenizer.json", "tokenizer_config.json"}) {
      assertThat(Files.readAllBytes(dir.resolve("b").resolve(file))).as(file).isEqualTo(Files.readAllBytes(dir.resolve("a").resolve(file)));
    }
  }

  @Test
  void writeRandom_folderLoadsWithItsConfigAndTokenizer() {
    long parameters = LLAMA.writeRandom(5, dir);
    try (CausalLm model = ModelFolder.load(dir, TinyModels.manager()); TextTokenizer tokenizer = TextTokenizer.fromFolder(dir)) {
      assertThat(model.config()).isEqualTo(LLAMA.toConfig());
      assertThat(model.parameters()).containsKey("lm_head.weight");
      assertThat(model.parameters().values().stream().mapToLong(a -> a.size()).sum()).isEqualTo(parameters);
      assertThat(tokenizer.encode("hi")).containsExactly('h', 'i');
    }
  }

  @Test
  void new_vocabTooSmallForTheByteTokenizerExplainsWhy() {
    assertThatThrownBy(() -> new ModelRecipe(ModelRecipe.Arch.GPT2, 100, 1, 8, 2, 2, 32, 16, true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("vocab 100")
        .hasMessageContaining(">= 257");
  }

  @Test
  void toConfig_gpt2WithFewerKvHeadsIsRejected() {
    assertThatThrownBy(() -> new ModelRecipe(ModelRecipe.Arch.GPT2, 300, 1, 8, 2, 1, 32, 16, true))
        .hasMessageContaining("kv-heads");
  }
}
