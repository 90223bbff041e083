package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointChunk;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chunks waiting for their manifest, one file each on disk ({@code <version>/<index>-<sha256>}),
 * so memory holds none of them and a forged chunk never overwrites a genuine one of the same
 * index: the signed manifest later picks the chunk by its hash.
 *
 * <p>Bounded two ways. By age on the topic's own clock (record timestamps, so a catch-up read of
 * old records ages them as they were): a version whose last chunk is older than {@code maxAge}
 * behind the newest record seen is dropped. By bytes: past {@code maxBytes}, the versions that
 * stopped growing longest ago are dropped first. A dropped version takes no more chunks.
 */
public final class PendingChunks implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PendingChunks.class);

  /** How much may wait for manifests, and for how long. */
  public record Limits(long maxBytes, Duration maxAge) {
    /** Room for a few checkpoints of a 1B-parameter model with its optimizer state; manifests follow within minutes. */
    public static final Limits DEFAULT = new Limits(32L << 30, Duration.ofHours(1));

    public Limits {
      if (maxBytes < 1) throw new IllegalArgumentException("pending bytes must be >= 1, got " + maxBytes);
      if (maxAge.isNegative() || maxAge.isZero()) throw new IllegalArgumentException("pending age must be > 0, got " + maxAge);
    }
  }

  private static final class Pending {
    long bytes;
    long newestTimestamp = Long.MIN_VALUE;
  }

  private final Path dir;
  private final Limits limits;
  private final Map<Long, Pending> versions = new HashMap<>();
  private final Set<Long> dropped = new HashSet<>();
  private long totalBytes;
  private long newestTimestamp = Long.MIN_VALUE;

  PendingChunks(Path dir, Limits limits) {
    this.dir = Folders.fresh(dir);
    this.limits = limits;
  }

  /**
   * Keeps the chunk until its manifest comes.
   *
   * @param timestamp the record's timestamp, negative when it has none
   * @throws CheckpointRejectedException when its data does not match its own hash
   */
  void add(CheckpointChunk chunk, long timestamp) {
    long version = chunk.getVersion();
    if (dropped.contains(version)) return;
    ByteBuffer data = chunk.getData().duplicate();
    int length = data.remaining();
    var digest = Sha256.digest();
    digest.update(data.duplicate());
    if (!Sha256.hex(digest).equals(chunk.getSha256())) {
      throw new CheckpointRejectedException("chunk " + chunk.getIndex() + " of v" + version + " (" + chunk.getPath() + ") does not match its own SHA-256");
    }
    Path file = file(version, chunk.getIndex(), chunk.getSha256());
    Pending pending = versions.computeIfAbsent(version, v -> new Pending());
    if (!Files.exists(file)) {
      try {
        Files.createDirectories(file.getParent());
        try (OutputStream out = Files.newOutputStream(file)) {
          Channels.newChannel(out).write(data);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot keep a pending chunk in " + file, e);
      }
      pending.bytes += length;
      totalBytes += length;
    }
    if (timestamp >= 0) {
      pending.newestTimestamp = Math.max(pending.newestTimestamp, timestamp);
      newestTimestamp = Math.max(newestTimestamp, timestamp);
    }
    enforceLimits();
  }

  /** The stored chunk of this version, index and hash, if it came. */
  Optional<Path> chunk(long version, int index, String sha256) {
    Path file = file(version, index, sha256);
    return Files.isRegularFile(file) ? Optional.of(file) : Optional.empty();
  }

  /** Forgets the version's chunks (its checkpoint is assembled, or can never be used). */
  void discard(long version) {
    Pending pending = versions.remove(version);
    if (pending == null) return;
    totalBytes -= pending.bytes;
    Folders.deleteQuietly(dir.resolve(Long.toString(version)));
  }

  /** Forgets every version up to this one, and takes none of them again. */
  void discardUpTo(long version) {
    for (long v : versions.keySet().stream().filter(v -> v <= version).toList()) discard(v);
    dropped.removeIf(v -> v <= version);
  }

  long bytes() {
    return totalBytes;
  }

  private void enforceLimits() {
    long oldestAllowed = newestTimestamp == Long.MIN_VALUE ? Long.MIN_VALUE : newestTimestamp - limits.maxAge().toMillis();
    for (var e : Map.copyOf(versions).entrySet()) {
      long last = e.getValue().newestTimestamp;
      if (last != Long.MIN_VALUE && last < oldestAllowed) drop(e.getKey(), "no manifest came within " + limits.maxAge());
    }
    while (totalBytes > limits.maxBytes()) {
      long stalest = versions.entrySet().stream()
          .min(Comparator.<Map.Entry<Long, Pending>>comparingLong(e -> e.getValue().newestTimestamp).thenComparingLong(Map.Entry::getKey)).orElseThrow().getKey();
      drop(stalest, "pending chunks exceed " + limits.maxBytes() + " bytes");
    }
  }

  private void drop(long version, String why) {
    log.warn("dropped the pending chunks of v{} ({} bytes): {}", version, versions.get(version).bytes, why);
    discard(version);
    dropped.add(version);
  }

  private Path file(long version, int index, String sha256) {
    if (!sha256.matches("[0-9a-f]{64}")) throw new CheckpointRejectedException("chunk " + index + " of v" + version + ": '" + sha256 + "' is not a hex SHA-256");
    return dir.resolve(Long.toString(version)).resolve(index + "-" + sha256);
  }

  @Override
  public void close() {
    Folders.deleteQuietly(dir);
  }
}
