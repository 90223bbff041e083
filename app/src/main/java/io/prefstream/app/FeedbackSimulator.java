package io.prefstream.app;

import io.prefstream.schemas.ChatMessage;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.schemas.ResponseRating;
import io.prefstream.schemas.ScoreScale;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.apache.avro.specific.SpecificRecord;

/**
 * The demo's users: a seeded population that judges short product reviews with a known ground
 * truth, as in the DPO paper's controlled sentiment task at toy scale.
 *
 * <p>Ground truth: a response's reward is (positive words − negative words) / words. Users see two
 * or more responses and prefer a over b with probability σ(4·(r_a − r_b)) (Bradley-Terry noise);
 * they send explicit pairs, 1-5 star ratings (the reward plus noise) and rankings, plus a small
 * share of malformed events that must end in the dead-letter topic.
 */
final class FeedbackSimulator {
  static final List<String> POSITIVE = List.of("great", "good", "love", "excellent", "happy", "nice", "fun", "best");
  static final List<String> NEGATIVE = List.of("bad", "awful", "hate", "poor", "sad", "boring", "worst", "broken");
  private static final List<String> NEUTRAL = List.of("the", "phone", "was", "it", "and", "very", "a", "day");
  private static final double BT_SCALE = 4.0;

  /** The number of distinct review prompts. */
  static final int PROMPTS = 50;

  /** One generated event, for the topic it goes to. */
  record Event(String topic, String key, SpecificRecord record, byte[] malformed) {}

  /** A prompt and a response as the users write them: the text the demo's tiny model pre-trains on. */
  record Demonstration(String prompt, String response) {}

  private final Random random;
  private final boolean chat;
  private long counter;

  /** @param chat send prompts as the user's message and responses as the assistant's (TRL's conversational format) */
  FeedbackSimulator(long seed, boolean chat) {
    this.random = new Random(seed);
    this.chat = chat;
  }

  static double reward(String response) {
    String[] words = response.trim().split("\\s+");
    int score = 0;
    for (String w : words) {
      if (POSITIVE.contains(w)) score++;
      if (NEGATIVE.contains(w)) score--;
    }
    return (double) score / words.length;
  }

  /** The next event: mostly pairs, some ratings and rankings, about 3% malformed. */
  List<Event> next(long now) {
    List<Event> events = textEvents(now);
    return chat ? events.stream().map(e -> e.record() == null ? e : new Event(e.topic(), e.key(), conversational(e.record()), null)).toList() : events;
  }

  /** The same feedback as a chat application sends it: the prompt is the user's message, each response the assistant's. */
  private static SpecificRecord conversational(SpecificRecord record) {
    if (record instanceof PreferencePair p) {
      return PreferencePair.newBuilder(p).setPrompt(null).setPromptMessages(said("user", p.getPrompt()))
          .setChosen(null).setChosenMessages(said("assistant", p.getChosen())).setRejected(null).setRejectedMessages(said("assistant", p.getRejected())).build();
    }
    if (record instanceof ResponseRating r) {
      return ResponseRating.newBuilder(r).setPrompt(null).setPromptMessages(said("user", r.getPrompt()))
          .setResponse(null).setResponseMessages(said("assistant", r.getResponse())).build();
    }
    RankedResponses r = (RankedResponses) record;
    return RankedResponses.newBuilder(r).setPrompt(null).setPromptMessages(said("user", r.getPrompt()))
        .setResponses(null).setResponsesMessages(r.getResponses().stream().map(text -> said("assistant", text)).toList()).build();
  }

  private static List<ChatMessage> said(String role, String text) {
    return List.of(new ChatMessage(role, text));
  }

  private List<Event> textEvents(long now) {
    long id = counter++;
    String prompt = prompt(id % PROMPTS);
    String promptId = "prompt-" + (id % PROMPTS);
    double dice = random.nextDouble();
    if (dice < 0.03) {
      return List.of(new Event("feedback.pairs", promptId, null, malformed()));
    }
    if (dice < 0.63) {
      String a = response();
      String b = response();
      if (a.equals(b)) b = b + " day";
      boolean aWins = random.nextDouble() < sigmoid(BT_SCALE * (reward(a) - reward(b)));
      return List.of(new Event("feedback.pairs", promptId, PreferencePair.newBuilder().setEventId("pair-" + id).setPromptId(promptId)
          .setPrompt(prompt).setChosen(aWins ? a : b).setRejected(aWins ? b : a).setSource("demo").setEventTime(now).build(), null));
    }
    if (dice < 0.90) {
      List<Event> ratings = new ArrayList<>();
      String ratedPrompt = rated(prompt);
      for (int r = 0; r < 3; r++) {
        String text = response();
        double stars = Math.max(1, Math.min(5, Math.round(3 + 2 * reward(text) * 2 + random.nextGaussian() * 0.5)));
        ratings.add(new Event("feedback.ratings", "rated-" + promptId, ResponseRating.newBuilder().setEventId("rating-" + id + "-" + r)
            .setPromptId("rated-" + promptId + "-" + id).setPrompt(ratedPrompt).setResponseId("resp-" + id + "-" + r).setResponse(text)
            .setScore(stars).setScale(ScoreScale.STARS_5).setRaterId("user-" + random.nextInt(100)).setEventTime(now).build(), null));
      }
      return ratings;
    }
    List<String> candidates = new ArrayList<>(List.of(response(), response(), response()));
    // the user ranks by noisy reward (Gumbel noise: a Plackett-Luce draw)
    List<double[]> keyed = new ArrayList<>();
    for (int i = 0; i < candidates.size(); i++) keyed.add(new double[] {BT_SCALE * reward(candidates.get(i)) - Math.log(-Math.log(random.nextDouble())), i});
    keyed.sort(Comparator.comparingDouble((double[] k) -> k[0]).reversed());
    List<String> ranked = keyed.stream().map(k -> candidates.get((int) k[1])).distinct().toList();
    if (ranked.size() < 2) return textEvents(now);
    return List.of(new Event("feedback.rankings", promptId, RankedResponses.newBuilder().setEventId("ranking-" + id).setPromptId(promptId)
        .setPrompt(prompt).setResponses(ranked).setSource("demo").setEventTime(now).build(), null));
  }

  /**
   * The next event of a thumbs-only population: one response to a prompt of its own, thumbs up with
   * probability σ(4 · reward), the Bradley-Terry noise of the pairs against a neutral response.
   * No two ratings share a prompt, so none could ever pair up: only KTO can learn from them.
   */
  Event nextThumb(long now) {
    long id = counter++;
    String promptId = "thumbs-" + id;
    String text = response();
    boolean up = random.nextDouble() < sigmoid(BT_SCALE * reward(text));
    return new Event("feedback.ratings", promptId, ResponseRating.newBuilder().setEventId("thumb-" + id).setPromptId(promptId)
        .setPrompt(rated(prompt(id % PROMPTS))).setResponseId("resp-" + id).setResponse(text).setScore(up ? 1 : 0).setScale(ScoreScale.THUMBS)
        .setRaterId("user-" + random.nextInt(100)).setEventTime(now).build(), null);
  }

  /** The text of review prompt {@code i}. */
  static String prompt(long i) {
    return "review " + i + ":";
  }

  private static String rated(String prompt) {
    return "rated " + prompt;
  }

  /** A prompt the users send, plain or rated, with a response drawn as theirs are. */
  Demonstration demonstration() {
    String prompt = prompt(random.nextInt(PROMPTS));
    return new Demonstration(random.nextBoolean() ? prompt : rated(prompt), response());
  }

  private String response() {
    int n = 3 + random.nextInt(4);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      double d = random.nextDouble();
      List<String> pool = d < 0.3 ? POSITIVE : d < 0.6 ? NEGATIVE : NEUTRAL;
      if (i > 0) sb.append(' ');
      sb.append(pool.get(random.nextInt(pool.size())));
    }
    return sb.toString();
  }

  private byte[] malformed() {
    return switch (random.nextInt(3)) {
      case 0 -> new byte[] {1, 2, 3, 4};
      case 1 -> "{\"event_id\":\"bad\",\"prompt\":\"x\",\"chosen\":\"same\",\"rejected\":\"same\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
      default -> "not json at all".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    };
  }

  private static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }
}
