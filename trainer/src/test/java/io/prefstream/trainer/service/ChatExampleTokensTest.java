package io.prefstream.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.schemas.ChatMessage;
import io.prefstream.schemas.LabelledResponse;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.trainer.dpo.LabelledExample;
import io.prefstream.trainer.dpo.PreferenceExample;
import io.prefstream.trainer.tokenize.ByteLevelTokenizer;
import io.prefstream.trainer.tokenize.ChatTokens;
import io.prefstream.trainer.tokenize.TextTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the trainer turns chat-formatted records into tokens, and what it does when it cannot. */
class ChatExampleTokensTest {
  private static final String CHATML = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
      + "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

  @TempDir Path dir;

  private static PreferencePair.Builder chatPair() {
    return PreferencePair.newBuilder().setEventId("e1").setPromptMessages(List.of(new ChatMessage("system", "S"), new ChatMessage("user", "Hi")))
        .setChosenMessages(List.of(new ChatMessage("assistant", "Hello!"))).setRejectedMessages(List.of(new ChatMessage("assistant", "Go.")));
  }

  private void template(String source) throws IOException {
    Files.writeString(dir.resolve("chat_template.jinja"), source);
  }

  @Test
  void chatPair_isRenderedWithTheTemplate_withoutAnAppendedEos() throws IOException {
    ByteLevelTokenizer.writeTo(dir, 512);
    template(CHATML);
    try (TextTokenizer tokenizer = TextTokenizer.fromFolder(dir)) {
      ExampleTokens tokens = new ExampleTokens(tokenizer, ChatTokens.fromFolder(dir, tokenizer), 512, 511, new ModelLimits(ByteLevelTokenizer.VOCAB_SIZE, 512, 8));
      PreferenceExample chat = (PreferenceExample) tokens.of(chatPair().build());
      assertThat(tokenizer.decode(chat.prompt())).isEqualTo("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
      assertThat(tokenizer.decode(chat.responses().get(0))).isEqualTo("Hello!<|im_end|>\n");
      assertThat(tokenizer.decode(chat.responses().get(1))).isEqualTo("Go.<|im_end|>\n");

      // a text part joins the conversation as the user's or the assistant's message
      PreferenceExample mixed = (PreferenceExample) tokens.of(chatPair().setPromptMessages(null).setPrompt("Hi").setRejectedMessages(null).setRejected("No").build());
      assertThat(tokenizer.decode(mixed.prompt())).isEqualTo("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
      assertThat(tokenizer.decode(mixed.responses().get(1))).isEqualTo("No<|im_end|>\n");

      // plain text still goes as before: tokenized apart, the EOS appended to each response
      PreferenceExample text = (PreferenceExample) tokens.of(PreferencePair.newBuilder().setEventId("t").setPrompt("Hi").setChosen("A").setRejected("B").build());
      assertThat(text.responses().get(0)).containsExactly('A', ByteLevelTokenizer.EOS_ID);

      RankedResponses ranking = RankedResponses.newBuilder().setEventId("r").setPrompt("Hi")
          .setResponsesMessages(List.of(List.of(new ChatMessage("assistant", "1")), List.of(new ChatMessage("assistant", "2")), List.of(new ChatMessage("assistant", "3")))).build();
      assertThat(((PreferenceExample) tokens.of(ranking)).responses()).hasSize(3).allSatisfy(r -> assertThat(tokenizer.decode(r)).endsWith("<|im_end|>\n"));

      // a chat rating that ingest labelled for KTO keeps its conversation
      LabelledResponse labelled = LabelledResponse.newBuilder().setEventId("l").setDesirable(true)
          .setPromptMessages(List.of(new ChatMessage("user", "Hi"))).setResponseMessages(List.of(new ChatMessage("assistant", "Hello!"))).build();
      LabelledExample thumbsUp = (LabelledExample) tokens.of(labelled);
      assertThat(tokenizer.decode(thumbsUp.prompt())).isEqualTo("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
      assertThat(tokenizer.decode(thumbsUp.response())).isEqualTo("Hello!<|im_end|>\n");
      assertThat(thumbsUp.desirable()).isTrue();
    }
  }

  @Test
  void chatPair_forAFolderWithoutTemplate_isUnfitAsNoChatTemplate() {
    ByteLevelTokenizer.writeTo(dir, 512);
    try (TextTokenizer tokenizer = TextTokenizer.fromFolder(dir)) {
      ExampleTokens tokens = new ExampleTokens(tokenizer, ChatTokens.fromFolder(dir, tokenizer), 512, 511, new ModelLimits(ByteLevelTokenizer.VOCAB_SIZE, 512, 8));
      assertThatThrownBy(() -> tokens.of(chatPair().build())).isInstanceOfSatisfying(UnfitExampleException.class,
          e -> assertThat(e.reason()).isEqualTo(UnfitReason.NO_CHAT_TEMPLATE)).hasMessageContaining("no chat template");
    }
  }

  @Test
  void aTemplateThatRaisesOrDoesNotParse_isUnfitAsChatTemplateError_andTextStillTrains() throws IOException {
    ByteLevelTokenizer.writeTo(dir, 512);
    template("{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}" + CHATML);
    try (TextTokenizer tokenizer = TextTokenizer.fromFolder(dir)) {
      ExampleTokens tokens = new ExampleTokens(tokenizer, ChatTokens.fromFolder(dir, tokenizer), 512, 511, new ModelLimits(ByteLevelTokenizer.VOCAB_SIZE, 512, 8));
      assertThatThrownBy(() -> tokens.of(chatPair().build())).isInstanceOfSatisfying(UnfitExampleException.class,
          e -> assertThat(e.reason()).isEqualTo(UnfitReason.CHAT_TEMPLATE_ERROR)).hasMessageContaining("System role not supported");
    }
    template("{% for m in messages %}{{ m.content }");
    try (TextTokenizer tokenizer = TextTokenizer.fromFolder(dir)) {
      ExampleTokens tokens = new ExampleTokens(tokenizer, ChatTokens.fromFolder(dir, tokenizer), 512, 511, new ModelLimits(ByteLevelTokenizer.VOCAB_SIZE, 512, 8));
      assertThatThrownBy(() -> tokens.of(chatPair().build())).isInstanceOfSatisfying(UnfitExampleException.class,
          e -> assertThat(e.reason()).isEqualTo(UnfitReason.CHAT_TEMPLATE_ERROR)).hasMessageContaining("does not parse");
      assertThat(((PreferenceExample) tokens.of(PreferencePair.newBuilder().setEventId("t").setPrompt("Hi").setChosen("A").setRejected("B").build())).prompt()).containsExactly('H', 'i');
    }
  }
}
