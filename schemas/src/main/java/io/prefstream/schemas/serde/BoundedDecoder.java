package io.prefstream.schemas.serde;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import org.apache.avro.io.Decoder;
import org.apache.avro.util.Utf8;

/**
 * Avro's binary decoder with every length checked before anything is allocated: a string or bytes
 * field may not claim more than {@link DecodeLimits#maxStringBytes()} or more bytes than the value
 * holds, an array or map not more than {@link DecodeLimits#maxCollectionItems()} items, and the
 * fields this reader does not know, which it skips, not more than that many items together. Without
 * this a few bytes claiming 2^31 items make the reader allocate an array of that size.
 */
final class BoundedDecoder extends Decoder {
  private final Decoder in;
  private final long maxStringBytes;
  private final long maxItems;
  /** Items counted so far in each collection being read, innermost last. */
  private final Deque<long[]> open = new ArrayDeque<>();
  /**
   * Items skipped so far in this value. An item of null takes no bytes, so the value's size does
   * not bound them: blocks each claiming the most items would cost billions of skips.
   */
  private long skipped;
  /**
   * False once a string's bytes were not valid UTF-8 (decoded leniently: U+FFFD where they break)
   * or a block stated its byte size (only skipping reads it: a wrong one breaks a reader that skips).
   */
  private boolean bytesSayWhatWasRead = true;
  /** How many bytes longer the strings read are in UTF-8 than in the value: a U+FFFD that stands for one broken byte takes three. */
  private long bytesAdded;

  /** @param valueBytes the size of the whole encoded value: no field can be longer */
  BoundedDecoder(Decoder in, DecodeLimits limits, int valueBytes) {
    this.in = in;
    this.maxStringBytes = Math.min(limits.maxStringBytes(), valueBytes);
    this.maxItems = limits.maxCollectionItems();
  }

  private int length(String what) throws IOException {
    long n = in.readLong();
    if (n < 0) throw new IOException(what + " claims a negative length " + n);
    if (n > maxStringBytes) throw new IOException(what + " claims " + n + " bytes; at most " + maxStringBytes + " allowed here");
    return (int) n;
  }

  private byte[] content(String what) throws IOException {
    byte[] bytes = new byte[length(what)];
    in.readFixed(bytes, 0, bytes.length);
    return bytes;
  }

  private long opened(long items) throws IOException {
    if (items > 0) {
      checkItems(items);
      open.push(new long[] {items});
    }
    return items;
  }

  private long next(long items) throws IOException {
    if (items == 0) {
      open.pop();
      return 0;
    }
    long total = open.peek()[0] + items;
    checkItems(total);
    open.peek()[0] = total;
    return items;
  }

  private void checkItems(long items) throws IOException {
    if (items > maxItems) throw new IOException("a collection claims " + items + " items; at most " + maxItems + " allowed");
  }

  @Override public void readNull() throws IOException { in.readNull(); }
  @Override public boolean readBoolean() throws IOException { return in.readBoolean(); }
  @Override public int readInt() throws IOException { return in.readInt(); }
  @Override public long readLong() throws IOException { return in.readLong(); }
  @Override public float readFloat() throws IOException { return in.readFloat(); }
  @Override public double readDouble() throws IOException { return in.readDouble(); }
  @Override public int readEnum() throws IOException { return in.readEnum(); }
  @Override public int readIndex() throws IOException { return in.readIndex(); }
  @Override public void readFixed(byte[] bytes, int start, int length) throws IOException { in.readFixed(bytes, start, length); }
  @Override public void skipFixed(int length) throws IOException { in.skipFixed(length); }

  @Override
  public Utf8 readString(Utf8 old) throws IOException {
    return new Utf8(text());
  }

  @Override
  public String readString() throws IOException {
    byte[] bytes = content("a string");
    String text = new String(bytes, StandardCharsets.UTF_8);
    // the lenient decoding put U+FFFD wherever the bytes were not UTF-8: only then look strictly, not twice for every string
    if (text.indexOf('\uFFFD') >= 0 && !isUtf8(bytes)) {
      bytesSayWhatWasRead = false;
      bytesAdded += text.getBytes(StandardCharsets.UTF_8).length - bytes.length;
    }
    return text;
  }

  /**
   * Whether the bytes read say, to any reader, what was read from them: every string valid UTF-8
   * (Java decodes invalid bytes leniently) and no block with a byte size (this reader ignores it, one
   * that skips the field follows it). Otherwise they must not be passed on as the record's encoding.
   */
  boolean bytesSayWhatWasRead() {
    return bytesSayWhatWasRead;
  }

  /** How many bytes more than the value, at most, encoding what was read takes. */
  long bytesAdded() {
    return bytesAdded;
  }

  private byte[] text() throws IOException {
    byte[] bytes = content("a string");
    if (bytesSayWhatWasRead && !isUtf8(bytes)) bytesSayWhatWasRead = false;
    return bytes;
  }

  /** A block's item count, as Avro's decoder reads it: a negative count is followed by the block's byte size. */
  private long blockCount() throws IOException {
    long items = in.readLong();
    if (items < 0) {
      in.readLong();
      bytesSayWhatWasRead = false;
      items = -items;
    }
    return items;
  }

  private static boolean isUtf8(byte[] bytes) {
    for (byte b : bytes) {
      if (b < 0) { // not ASCII: decode strictly
        try {
          StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes));
          return true;
        } catch (CharacterCodingException e) {
          return false;
        }
      }
    }
    return true;
  }

  @Override
  public void skipString() throws IOException {
    in.skipFixed(length("a string"));
  }

  @Override
  public ByteBuffer readBytes(ByteBuffer old) throws IOException {
    return ByteBuffer.wrap(content("a bytes field"));
  }

  @Override
  public void skipBytes() throws IOException {
    in.skipFixed(length("a bytes field"));
  }

  @Override public long readArrayStart() throws IOException { return opened(blockCount()); }
  @Override public long arrayNext() throws IOException { return next(blockCount()); }
  @Override public long readMapStart() throws IOException { return opened(blockCount()); }
  @Override public long mapNext() throws IOException { return next(blockCount()); }

  @Override
  public long skipArray() throws IOException {
    return skippedBlock(in.skipArray());
  }

  @Override
  public long skipMap() throws IOException {
    return skippedBlock(in.skipMap());
  }

  /** Skipping is called once per block, each block's items then skipped one by one: all blocks of the value count together. */
  private long skippedBlock(long items) throws IOException {
    if (items > maxItems - skipped) {
      throw new IOException("fields this reader skips claim " + (skipped + items) + " items; at most " + maxItems + " allowed in one value");
    }
    skipped += items;
    return items;
  }
}
