package io.prefstream.ingest;

import io.prefstream.schemas.LabelledResponse;
import io.prefstream.schemas.ResponseRating;
import io.prefstream.schemas.ScoreScale;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Single ratings as KTO's labelled responses (Ethayarajh et al. 2024), so that a lone thumbs up or
 * down is not lost waiting for a second rating of the same prompt. With {@code
 * ratings.unpaired=true}, every THUMBS rating (1 up: desirable, 0 down: undesirable), and every
 * STARS_5 rating at or above {@code ratings.unpaired.desirable.min.stars} or at or below {@code
 * ratings.unpaired.undesirable.max.stars}, becomes a {@link LabelledResponse} on the pairs topic;
 * the other ratings (the stars between) pair up as before. Each rating is used once.
 *
 * @param enabled ratings.unpaired
 * @param desirableMinStars stars at or above which a rating is desirable
 * @param undesirableMaxStars stars at or below which a rating is undesirable, below {@code desirableMinStars}
 */
record UnpairedRatings(boolean enabled, double desirableMinStars, double undesirableMaxStars) {
  static final String SOURCE = "ratings";

  UnpairedRatings {
    if (!(undesirableMaxStars < desirableMinStars)) {
      throw new IllegalArgumentException("undesirable max stars " + undesirableMaxStars + " must be below desirable min stars " + desirableMinStars);
    }
  }

  static UnpairedRatings off() {
    return new UnpairedRatings(false, 4, 2);
  }

  /** The rating as a labelled response, or empty when it is to pair up instead. */
  Optional<LabelledResponse> labelled(ResponseRating r) {
    if (!enabled) return Optional.empty();
    Boolean desirable = null;
    if (r.getScale() == ScoreScale.THUMBS) desirable = r.getScore() >= 1;
    else if (r.getScore() >= desirableMinStars) desirable = true;
    else if (r.getScore() <= undesirableMaxStars) desirable = false;
    if (desirable == null) return Optional.empty();
    Map<String, String> metadata = new HashMap<>(r.getMetadata());
    metadata.put("rating_id", r.getEventId());
    metadata.put("response_id", r.getResponseId());
    metadata.put("score", String.valueOf(r.getScore()));
    metadata.put("scale", r.getScale().name());
    if (r.getRaterId() != null) metadata.put("rater_id", r.getRaterId());
    return Optional.of(LabelledResponse.newBuilder()
        .setEventId(r.getEventId())
        .setPromptId(r.getPromptId())
        .setPrompt(r.getPrompt())
        .setResponse(r.getResponse())
        .setPromptIds(r.getPromptIds())
        .setResponseIds(r.getResponseIds())
        .setPromptMessages(r.getPromptMessages())
        .setResponseMessages(r.getResponseMessages())
        .setDesirable(desirable)
        .setSource(SOURCE)
        .setEventTime(r.getEventTime())
        .setMetadata(metadata)
        .build());
  }
}
