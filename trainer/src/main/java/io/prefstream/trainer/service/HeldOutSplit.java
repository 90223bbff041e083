package io.prefstream.trainer.service;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Sends a fixed share of examples to evaluation by a hash of their event id, so the same pair is
 * held out on every trainer and after every restart, and never trained on.
 */
final class HeldOutSplit {
  private static final long BUCKETS = 10_000;
  private final long heldOutBuckets;

  HeldOutSplit(double fraction) {
    this.heldOutBuckets = Math.round(fraction * BUCKETS);
  }

  boolean isHeldOut(String eventId) {
    CRC32 crc = new CRC32();
    crc.update(eventId.getBytes(StandardCharsets.UTF_8));
    return crc.getValue() % BUCKETS < heldOutBuckets;
  }
}
