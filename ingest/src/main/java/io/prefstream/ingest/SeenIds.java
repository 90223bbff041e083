package io.prefstream.ingest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which event ids the de-duplication store may hold under each bucket (see
 * {@link EventIdDedup#isRepeat}): a Bloom filter per bucket, in memory, so that an id the store cannot
 * hold (nearly every id: repeats are rare) is known new without reading the store. A store read
 * that finds nothing is the dearest read there is: RocksJava's {@code get} throws a C++ exception
 * inside for every missing key and catches it again (rocksdb#13023), about 3 µs on this machine.
 *
 * <p>The filters never miss an id the store holds: admission loads every id of the store into them
 * when its task starts (the store is restored by then) and adds each id it puts. They may name ids
 * the store does not hold (a Bloom filter's false positives, about 0.1%; puts of an aborted
 * transaction; entries the store has expired); those cost a read, never a repeat let through. They
 * cover the buckets within {@code kept} of the newest bucket added. For an older bucket the answer
 * is "may hold", so the store is read, as it was before the filters.
 */
final class SeenIds {
  private final long kept;
  private final Map<Long, Bucket> buckets = new HashMap<>();
  /** Buckets before this are not covered; everything is until a bucket is dropped. */
  private long oldestCovered = Long.MIN_VALUE;
  private long newest = Long.MIN_VALUE;

  /** @param kept how far behind the newest bucket (ms) buckets stay covered: at least the store's retention */
  SeenIds(long kept) {
    this.kept = kept;
  }

  /** Forgets everything: all buckets are covered, and empty. */
  void clear() {
    buckets.clear();
    oldestCovered = Long.MIN_VALUE;
    newest = Long.MIN_VALUE;
  }

  /** Notes that the store holds {@code id} under {@code bucket}. */
  void add(long bucket, String id) {
    if (bucket < oldestCovered) return; // not covered: its lookups read the store
    buckets.computeIfAbsent(bucket, b -> new Bucket()).add(hash(id));
    if (bucket > newest) {
      newest = bucket;
      if (newest - kept > oldestCovered) {
        oldestCovered = newest - kept;
        buckets.keySet().removeIf(b -> b < oldestCovered);
      }
    }
  }

  /** False only if the store cannot hold {@code id} under {@code bucket}. */
  boolean mayHold(long bucket, String id) {
    if (bucket < oldestCovered) return true;
    Bucket ids = buckets.get(bucket);
    return ids != null && ids.mayContain(hash(id));
  }

  /** A 64-bit hash of the id's characters (FNV-1a, then MurmurHash3's finalizer to spread the bits). */
  static long hash(String id) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < id.length(); i++) {
      h = (h ^ id.charAt(i)) * 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    return h ^ (h >>> 33);
  }

  /**
   * The ids of one bucket: Bloom filters of doubling capacity, a new one when the last is full, so
   * that a quiet bucket stays small and a busy one keeps its error rate.
   */
  private static final class Bucket {
    private static final int FIRST_CAPACITY = 1 << 14;
    private final List<Filter> filters = new ArrayList<>(List.of(new Filter(FIRST_CAPACITY)));

    void add(long hash) {
      Filter last = filters.get(filters.size() - 1);
      if (last.full()) {
        last = new Filter(last.capacity * 2);
        filters.add(last);
      }
      last.add(hash);
    }

    boolean mayContain(long hash) {
      for (Filter f : filters) {
        if (f.mayContain(hash)) return true;
      }
      return false;
    }
  }

  /**
   * A Bloom filter of 16 bits per slot of its capacity (a power of two in all, so a probe is a mask,
   * not a division; at least 32 KiB) and 7 probes: ~0.1% false positives when full. Capacity doubles
   * as ids come, so an id costs 16-32 bits.
   */
  private static final class Filter {
    private static final int BITS_PER_SLOT = 16;
    private static final int PROBES = 7;
    final int capacity;
    private final long[] words;
    private final long mask;
    private int count;

    Filter(int capacity) {
      this.capacity = capacity;
      if (Integer.bitCount(capacity) != 1) throw new IllegalArgumentException("a filter's capacity is a power of two, got " + capacity);
      long bits = (long) capacity * BITS_PER_SLOT;
      this.words = new long[(int) (bits / 64)];
      this.mask = bits - 1;
    }

    boolean full() {
      return count >= capacity;
    }

    void add(long hash) {
      for (int i = 0; i < PROBES; i++) {
        long bit = probe(hash, i);
        words[(int) (bit >>> 6)] |= 1L << bit;
      }
      count++;
    }

    boolean mayContain(long hash) {
      for (int i = 0; i < PROBES; i++) {
        long bit = probe(hash, i);
        if ((words[(int) (bit >>> 6)] & (1L << bit)) == 0) return false;
      }
      return true;
    }

    /** The i-th bit for a hash: the two halves of the hash combined (Kirsch and Mitzenmacher). */
    private long probe(long hash, int i) {
      return ((hash >>> 32) + i * (hash & 0xffffffffL)) & mask;
    }
  }
}
