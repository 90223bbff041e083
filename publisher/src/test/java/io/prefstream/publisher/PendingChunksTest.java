package io.prefstream.publisher;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.schemas.CheckpointChunk;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PendingChunksTest {
  @TempDir Path tmp;

  private static CheckpointChunk chunk(long version, int index, int bytes) {
    byte[] data = new byte[bytes];
    data[0] = (byte) index;
    return CheckpointChunk.newBuilder().setModelName("m").setVersion(version).setIndex(index).setPath("f").setOffset((long) index * bytes)
        .setData(java.nio.ByteBuffer.wrap(data)).setSha256(Sha256.hex(data)).build();
  }

  private static boolean has(PendingChunks pending, CheckpointChunk c) {
    return pending.chunk(c.getVersion(), c.getIndex(), c.getSha256()).isPresent();
  }

  @Test
  void overTheByteBound_theVersionThatStoppedGrowingLongestAgoGoes_andTakesNoMoreChunks() {
    try (PendingChunks pending = new PendingChunks(tmp.resolve("p"), new PendingChunks.Limits(3000, Duration.ofHours(1)))) {
      CheckpointChunk stale = chunk(1, 0, 1000);
      pending.add(stale, 100);
      pending.add(chunk(2, 0, 1000), 200);
      pending.add(chunk(2, 1, 1000), 300);
      pending.add(chunk(2, 2, 1000), 400);
      assertThat(has(pending, stale)).isFalse();
      assertThat(pending.bytes()).isEqualTo(3000);
      pending.add(chunk(1, 1, 10), 500);
      assertThat(pending.bytes()).isEqualTo(3000);
    }
  }

  @Test
  void aVersionWhoseManifestNeverCame_isDroppedOnceTheTopicsClockMovesPastItsAge() {
    try (PendingChunks pending = new PendingChunks(tmp.resolve("p"), new PendingChunks.Limits(1 << 20, Duration.ofMinutes(1)))) {
      CheckpointChunk orphan = chunk(1, 0, 100);
      pending.add(orphan, 0);
      pending.add(chunk(2, 0, 100), 30_000);
      assertThat(has(pending, orphan)).isTrue();
      pending.add(chunk(2, 1, 100), 61_000);
      assertThat(has(pending, orphan)).isFalse();
      assertThat(pending.bytes()).isEqualTo(200);
    }
  }
}
