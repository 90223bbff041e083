package io.prefstream.publisher;

import java.nio.file.Path;

/** Tells the serving side that a new version is current. */
public interface ServingNotifier {
  /**
   * @param previous the version being replaced, or -1 for none
   * @throws RuntimeException when serving could not take the new version; the previous one stays current
   */
  void activate(String model, long version, Path folder, long previous);

  /** Nothing to tell: the folder's {@code current} link is all serving reads. */
  ServingNotifier NONE = (model, version, folder, previous) -> {};
}
