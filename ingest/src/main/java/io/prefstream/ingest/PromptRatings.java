package io.prefstream.ingest;

import io.prefstream.schemas.ChatMessage;
import io.prefstream.schemas.ResponseRating;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The ratings of one prompt within one window, by response: the state ratings pair up from. */
final class PromptRatings {
  /** One response's ratings so far; several raters of it are averaged. */
  record Rated(String text, List<Integer> ids, List<Turn> messages, double scoreSum, int count, List<String> ratingIds, long newestEventTime) {
    double mean() {
      return scoreSum / count;
    }
  }

  /** A chat message as the state store keeps it (plain JSON, not the Avro record). */
  record Turn(String role, String content) {
    static List<Turn> of(List<ChatMessage> messages) {
      return messages == null ? null : messages.stream().map(m -> new Turn(m.getRole(), m.getContent())).toList();
    }

    static List<ChatMessage> messages(List<Turn> turns) {
      return turns == null ? null : turns.stream().map(t -> new ChatMessage(t.role(), t.content())).toList();
    }
  }

  public String prompt;
  public List<Integer> promptIds;
  public List<Turn> promptMessages;
  public Map<String, Rated> responses = new LinkedHashMap<>();

  PromptRatings add(ResponseRating r) {
    if (prompt == null) prompt = r.getPrompt();
    if (promptIds == null) promptIds = r.getPromptIds();
    if (promptMessages == null) promptMessages = Turn.of(r.getPromptMessages());
    double score = normalised(r);
    responses.merge(r.getResponseId(),
        new Rated(r.getResponse(), r.getResponseIds(), Turn.of(r.getResponseMessages()), score, 1, List.of(r.getEventId()), r.getEventTime()),
        (a, b) -> {
          List<String> ids = new ArrayList<>(a.ratingIds());
          ids.addAll(b.ratingIds());
          return new Rated(a.text(), a.ids(), a.messages(), a.scoreSum() + b.scoreSum(), a.count() + b.count(), ids, Math.max(a.newestEventTime(), b.newestEventTime()));
        });
    return this;
  }

  /**
   * At most the bytes the rating adds to its window's stored JSON: its response's entry, and the
   * prompt too when it is the window's first. A repeat rating of a response adds only its id, but
   * is counted in full: {@link RatingWindowGate} cannot see which responses the window holds.
   */
  static int storedBytes(ResponseRating r, boolean firstOfWindow) {
    PromptRatings alone = new PromptRatings().add(r);
    return JsonSerde.size(firstOfWindow ? alone : alone.responses);
  }

  /** Scores on one footing, 0 to 1, so thumbs and stars of one response average sensibly. */
  private static double normalised(ResponseRating r) {
    return switch (r.getScale()) {
      case THUMBS -> r.getScore();
      case STARS_5 -> (r.getScore() - 1) / 4;
    };
  }
}
