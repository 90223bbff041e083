package io.prefstream.schemas.serde;

import io.prefstream.schemas.PreferencePair;
import java.util.List;
import java.util.Map;

/** Sample records for the serde tests. */
final class Records {
  private Records() {}

  static PreferencePair pair(String eventId) {
    return PreferencePair.newBuilder()
        .setEventId(eventId)
        .setPromptId("p1")
        .setPrompt("Say hi")
        .setChosen("Hi!")
        .setRejected("Go away.")
        .setChosenIds(List.of(1, 2, 3))
        .setEventTime(1_700_000_000_000L)
        .setWeight(0.5)
        .setMetadata(Map.of("app", "chat"))
        .build();
  }
}
