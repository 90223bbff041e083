package io.prefstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.schemas.ChatMessage;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.schemas.ResponseRating;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FeedbackSimulatorTest {

  @Test
  void chattingUsers_sendTheSameFeedbackAsMessages() {
    FeedbackSimulator text = new FeedbackSimulator(5, false);
    FeedbackSimulator chat = new FeedbackSimulator(5, true);
    List<FeedbackSimulator.Event> texts = new ArrayList<>();
    List<FeedbackSimulator.Event> chats = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      texts.addAll(text.next(0));
      chats.addAll(chat.next(0));
    }
    assertThat(chats).hasSameSizeAs(texts);
    for (int i = 0; i < texts.size(); i++) {
      Object t = texts.get(i).record();
      Object c = chats.get(i).record();
      if (t instanceof PreferencePair p) {
        PreferencePair q = (PreferencePair) c;
        assertThat(q.getPrompt()).isNull();
        assertThat(q.getPromptMessages()).containsExactly(new ChatMessage("user", p.getPrompt()));
        assertThat(q.getChosenMessages()).containsExactly(new ChatMessage("assistant", p.getChosen()));
        assertThat(q.getRejectedMessages()).containsExactly(new ChatMessage("assistant", p.getRejected()));
      } else if (t instanceof ResponseRating r) {
        assertThat(((ResponseRating) c).getResponseMessages()).containsExactly(new ChatMessage("assistant", r.getResponse()));
      } else if (t instanceof RankedResponses r) {
        assertThat(((RankedResponses) c).getResponsesMessages()).hasSameSizeAs(r.getResponses());
      } else {
        assertThat(chats.get(i).malformed()).isEqualTo(texts.get(i).malformed());
      }
    }
  }
}
