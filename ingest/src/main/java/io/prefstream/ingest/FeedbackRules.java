package io.prefstream.ingest;

import io.prefstream.schemas.ChatMessage;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.schemas.ResponseRating;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The validation rules, one reason code each (see {@link Reason}). A record passes when it has an
 * event id, every id within {@code limits.max.id.bytes}; a prompt and each response as non-empty
 * text or tokens, within the size limits; two different responses (a ranking: two distinct
 * ones); a weight in (0, limits.max.weight]; an event time within the clock limits (an unset
 * event time, 0, takes the Kafka record's timestamp); a rating also a prompt id, a response id and a score on its scale. A missing prompt id becomes a hash of
 * the prompt. A part sent as chat messages follows {@link ChatChecks} instead.
 *
 * <p>A record that passes is normalised in place, not copied: each was just read from its bytes
 * and belongs to ingest alone, and a deep copy per record cost more than its validation.
 */
final class FeedbackRules {
  private final ValidationLimits limits;
  private final ChatChecks chat;

  FeedbackRules(ValidationLimits limits) {
    this.limits = limits;
    this.chat = new ChatChecks(limits);
  }

  /** A record that passed, normalised ({@code changed}: normalising set a field), or the rule it broke. */
  record Checked<T>(T record, boolean changed, Rejection rejection) {
    static <T> Checked<T> ok(T record, boolean changed) {
      return new Checked<>(record, changed, null);
    }

    static <T> Checked<T> rejected(Reason reason, String detail) {
      return new Checked<>(null, false, new Rejection(reason, detail));
    }

    boolean passed() {
      return rejection == null;
    }
  }

  Checked<PreferencePair> pair(PreferencePair p, long recordTimestamp, long now) {
    Optional<Rejection> broken = firstOf(
        eventId(p.getEventId()),
        optionalId("prompt_id", p.getPromptId()),
        prompt(p.getPrompt(), p.getPromptIds(), p.getPromptMessages()),
        response("chosen", p.getChosen(), p.getChosenIds(), p.getChosenMessages()),
        response("rejected", p.getRejected(), p.getRejectedIds(), p.getRejectedMessages()),
        weight(p.getWeight()),
        eventTime(effectiveEventTime(p.getEventTime(), recordTimestamp), now));
    if (broken.isPresent()) return Checked.rejected(broken.get().reason(), broken.get().detail());
    boolean sameMessages = p.getChosenMessages() != null && p.getChosenMessages().equals(p.getRejectedMessages());
    if (sameMessages || sameResponse(p.getChosen(), p.getChosenIds(), p.getRejected(), p.getRejectedIds())) {
      return Checked.rejected(Reason.SAME_RESPONSES, "chosen and rejected are the same response");
    }
    Normalised n = normalised(p.getEventTime(), recordTimestamp, p.getPromptId(), p.getPrompt(), p.getPromptMessages(), p.getPromptIds());
    p.setEventTime(n.eventTime());
    p.setPromptId(n.promptId());
    return Checked.ok(p, n.changed());
  }

  Checked<RankedResponses> ranking(RankedResponses r, long recordTimestamp, long now) {
    int texts = r.getResponses() == null ? 0 : r.getResponses().size();
    int tokenLists = r.getResponsesIds() == null ? 0 : r.getResponsesIds().size();
    int messageLists = r.getResponsesMessages() == null ? 0 : r.getResponsesMessages().size();
    if ((texts > 0 && tokenLists > 0 && texts != tokenLists) || (messageLists > 0 && (texts > 0 || tokenLists > 0) && messageLists != Math.max(texts, tokenLists))) {
      return Checked.rejected(Reason.MISSING_FIELD, "responses has " + texts + " texts, responses_ids " + tokenLists + " token lists and responses_messages " + messageLists + " message lists");
    }
    int k = Math.max(messageLists, Math.max(texts, tokenLists));
    Optional<Rejection> broken = firstOf(eventId(r.getEventId()), optionalId("prompt_id", r.getPromptId()),
        prompt(r.getPrompt(), r.getPromptIds(), r.getPromptMessages()), weight(r.getWeight()),
        eventTime(effectiveEventTime(r.getEventTime(), recordTimestamp), now));
    for (int i = 0; broken.isEmpty() && i < k; i++) {
      broken = response("responses[" + i + "]", texts > 0 ? r.getResponses().get(i) : null, tokenLists > 0 ? r.getResponsesIds().get(i) : null,
          messageLists > 0 ? r.getResponsesMessages().get(i) : null);
    }
    if (broken.isPresent()) return Checked.rejected(broken.get().reason(), broken.get().detail());
    Set<Object> distinct = new HashSet<>();
    for (int i = 0; i < k; i++) distinct.add(messageLists > 0 ? r.getResponsesMessages().get(i) : texts > 0 ? r.getResponses().get(i) : r.getResponsesIds().get(i));
    if (distinct.size() < 2) {
      return Checked.rejected(Reason.TOO_FEW_RESPONSES, "a ranking needs at least two distinct responses, got " + distinct.size());
    }
    Normalised n = normalised(r.getEventTime(), recordTimestamp, r.getPromptId(), r.getPrompt(), r.getPromptMessages(), r.getPromptIds());
    r.setEventTime(n.eventTime());
    r.setPromptId(n.promptId());
    return Checked.ok(r, n.changed());
  }

  Checked<ResponseRating> rating(ResponseRating r, long recordTimestamp, long now) {
    long eventTime = effectiveEventTime(r.getEventTime(), recordTimestamp);
    Optional<Rejection> broken = firstOf(
        eventId(r.getEventId()),
        id("prompt_id", r.getPromptId()),
        id("response_id", r.getResponseId()),
        optionalId("rater_id", r.getRaterId()),
        prompt(r.getPrompt(), r.getPromptIds(), r.getPromptMessages()),
        response("response", r.getResponse(), r.getResponseIds(), r.getResponseMessages()),
        score(r),
        eventTime(eventTime, now));
    if (broken.isPresent()) return Checked.rejected(broken.get().reason(), broken.get().detail());
    r.setEventTime(eventTime);
    return Checked.ok(r, true); // a rating is stamped into a labelled response: never passed on as it came
  }

  @SafeVarargs
  private static Optional<Rejection> firstOf(Optional<Rejection>... checks) {
    for (Optional<Rejection> c : checks) {
      if (c.isPresent()) return c;
    }
    return Optional.empty();
  }

  private Optional<Rejection> eventId(String id) {
    return id("event_id", id);
  }

  private Optional<Rejection> id(String field, String value) {
    return isBlank(value)
        ? Optional.of(new Rejection(Reason.MISSING_FIELD, "'" + field + "' is required"))
        : optionalId(field, value);
  }

  /** An id is copied into keys and metadata (a rating pair's event id holds three): its length is bounded like a text's. */
  private Optional<Rejection> optionalId(String field, String value) {
    int bytes = value == null ? 0 : value.getBytes(StandardCharsets.UTF_8).length;
    return bytes > limits.maxIdBytes()
        ? Optional.of(new Rejection(Reason.TOO_LONG, "'" + field + "' has " + bytes + " bytes, the limit is " + limits.maxIdBytes() + " (" + IngestConfig.MAX_ID_BYTES + ")"))
        : Optional.empty();
  }

  private Optional<Rejection> prompt(String text, List<Integer> ids, List<ChatMessage> messages) {
    if (messages != null) return chat.prompt(messages);
    if (text == null && ids == null) return Optional.of(new Rejection(Reason.MISSING_FIELD, "neither 'prompt' nor 'prompt_ids' is set; send text or token ids"));
    if ((text == null || text.isBlank()) && (ids == null || ids.isEmpty())) return Optional.of(new Rejection(Reason.EMPTY_PROMPT, "the prompt is empty"));
    return sizes("prompt", text, ids);
  }

  private Optional<Rejection> response(String field, String text, List<Integer> ids, List<ChatMessage> messages) {
    if (messages != null) return chat.response(field, messages);
    if (text == null && ids == null) return Optional.of(new Rejection(Reason.MISSING_FIELD, "neither '" + field + "' nor '" + field + "_ids' is set; send text or token ids"));
    if ((text == null || text.isBlank()) && (ids == null || ids.isEmpty())) return Optional.of(new Rejection(Reason.EMPTY_RESPONSE, "'" + field + "' is empty"));
    return sizes(field, text, ids);
  }

  private Optional<Rejection> sizes(String field, String text, List<Integer> ids) {
    if (text != null && text.getBytes(StandardCharsets.UTF_8).length > limits.maxTextBytes()) {
      return Optional.of(new Rejection(Reason.TOO_LONG, "'" + field + "' has " + text.getBytes(StandardCharsets.UTF_8).length + " bytes, the limit is " + limits.maxTextBytes()));
    }
    if (ids != null && ids.size() > limits.maxTokens()) {
      return Optional.of(new Rejection(Reason.TOO_LONG, "'" + field + "' has " + ids.size() + " tokens, the limit is " + limits.maxTokens()));
    }
    if (ids != null && ids.stream().anyMatch(id -> id < 0)) {
      return Optional.of(new Rejection(Reason.BAD_TOKEN, "'" + field + "' holds a negative token id"));
    }
    return Optional.empty();
  }

  private Optional<Rejection> weight(double weight) {
    return weight > 0 && weight <= limits.maxWeight() ? Optional.empty()
        : Optional.of(new Rejection(Reason.BAD_WEIGHT, "weight must be > 0 and <= " + limits.maxWeight() + " (limits.max.weight), got " + weight));
  }

  private Optional<Rejection> eventTime(long eventTime, long now) {
    if (eventTime > now + limits.maxFutureSkew().toMillis()) {
      return Optional.of(new Rejection(Reason.BAD_EVENT_TIME, "event_time " + eventTime + " is " + (eventTime - now) + " ms in the future; the limit is " + limits.maxFutureSkew().toMillis()));
    }
    if (eventTime < now - limits.maxAge().toMillis()) {
      return Optional.of(new Rejection(Reason.BAD_EVENT_TIME, "event_time " + eventTime + " is older than " + limits.maxAge().toMillis() + " ms"));
    }
    return Optional.empty();
  }

  private static Optional<Rejection> score(ResponseRating r) {
    double s = r.getScore();
    boolean onScale = switch (r.getScale()) {
      case THUMBS -> s == 0 || s == 1;
      case STARS_5 -> s >= 1 && s <= 5;
    };
    return onScale ? Optional.empty() : Optional.of(new Rejection(Reason.BAD_SCORE, "score " + s + " is not on the " + r.getScale() + " scale"));
  }

  private static boolean sameResponse(String a, List<Integer> aIds, String b, List<Integer> bIds) {
    boolean textsSame = a != null && a.equals(b);
    boolean idsSame = aIds != null && aIds.equals(bIds);
    boolean textsDiffer = a != null && b != null && !a.equals(b);
    boolean idsDiffer = aIds != null && bIds != null && !aIds.equals(bIds);
    return (textsSame || idsSame) && !textsDiffer && !idsDiffer;
  }

  /**
   * The event time and prompt id normalising gives a pair or ranking, and whether either differs
   * from what it came with (read from what normalising gave: the record's input bytes then no
   * longer encode it).
   */
  private record Normalised(long eventTime, String promptId, boolean changed) {}

  private static Normalised normalised(long eventTime, long recordTimestamp, String promptId, String prompt, List<ChatMessage> messages, List<Integer> promptIds) {
    long time = effectiveEventTime(eventTime, recordTimestamp);
    String id = promptId(promptId, prompt, messages, promptIds);
    return new Normalised(time, id, time != eventTime || !id.equals(promptId));
  }

  private static long effectiveEventTime(long eventTime, long recordTimestamp) {
    return eventTime == 0 ? recordTimestamp : eventTime;
  }

  private static boolean isBlank(String s) {
    return s == null || s.isBlank();
  }

  /** The given prompt id, else the first 16 hex digits of the prompt's SHA-256 (text, else messages, else token ids). */
  static String promptId(String promptId, String prompt, List<ChatMessage> messages, List<Integer> promptIds) {
    if (!isBlank(promptId)) return promptId;
    String basis = prompt != null ? prompt : messages != null ? messages.toString() : Objects.toString(promptIds);
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(basis.getBytes(StandardCharsets.UTF_8));
      return "sha256:" + HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JVM", e);
    }
  }
}
