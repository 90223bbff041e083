package io.prefstream.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format:
 * an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and byte
 * range, then the raw little-endian data.
 *
 * <p>Why our own: DJL's codec reads the whole file into one Java buffer, so it stops at 2 GiB. Here
 * the data is read a bounded chunk of rows at a time and written straight from native memory, so
 * neither a file nor a tensor has a size limit beyond the memory its float32 copy needs.
 *
 * <p>F32, F16 and BF16 are read, always into float32 arrays (the trainer computes in float32). Writes
 * are always F32, tensors sorted by name, the header padded with spaces to 8 bytes as the reference
 * implementation does; so equal tensors give equal bytes.
 */
public final class SafeTensors implements AutoCloseable {

  /** Element types this reader accepts. */
  public enum Dtype {
    F32(4),
    F16(2),
    BF16(2);

    final int bytes;

    Dtype(int bytes) {
      this.bytes = bytes;
    }
  }

  /** One tensor's header entry: its dtype, shape and byte range relative to the data section. */
  public record Entry(String name, Dtype dtype, Shape shape, long begin, long end) {
    public Entry {
      long expected = shape.size() * dtype.bytes;
      if (end - begin != expected) {
        throw new IllegalArgumentException(
            "tensor " + name + ": data_offsets span " + (end - begin) + " bytes, but " + dtype + " " + shape
                + " needs " + expected);
      }
    }
  }

  /**
   * Largest float32 chunk copied through one Java buffer while loading or saving. Small: the
   * loading buffer is direct memory that only a garbage collection frees, which a mostly idle heap
   * may not run for hours (at 256 MiB, the two models' buffers stayed resident through training).
   */
  static final long DEFAULT_CHUNK_BYTES = 16L << 20;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long MAX_HEADER_BYTES = 100L << 20; // the reference implementation's limit

  private final Path file;
  private final FileChannel channel;
  private final long dataStart;
  private final Map<String, Entry> entries;
  private final long chunkBytes;
  private ByteBuffer scratch;

  private SafeTensors(Path file, FileChannel channel, long dataStart, Map<String, Entry> entries, long chunkBytes) {
    this.file = file;
    this.channel = channel;
    this.dataStart = dataStart;
    this.entries = entries;
    this.chunkBytes = chunkBytes;
  }

  /** Opens a file and parses its header; tensor data is read only on {@link #load}. */
  public static SafeTensors open(Path file) {
    return open(file, DEFAULT_CHUNK_BYTES);
  }

  static SafeTensors open(Path file, long chunkBytes) {
    FileChannel channel = null;
    try {
      channel = FileChannel.open(file, StandardOpenOption.READ);
      ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(channel, lengthBytes, 0);
      long headerLength = lengthBytes.getLong(0);
      if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || 8 + headerLength > channel.size()) {
        throw new IllegalArgumentException(file + ": not a safetensors file (header length " + headerLength + ")");
      }
      ByteBuffer header = ByteBuffer.allocate((int) headerLength);
      readFully(channel, header, 8);
      long dataStart = 8 + headerLength;
      Map<String, Entry> entries = parseHeader(file, new String(header.array(), StandardCharsets.UTF_8));
      long dataLength = channel.size() - dataStart;
      for (Entry e : entries.values()) {
        if (e.begin() < 0 || e.end() > dataLength) {
          throw new IllegalArgumentException(
              file + ": tensor " + e.name() + " ends at byte " + e.end() + " past the data section (" + dataLength + " bytes)");
        }
      }
      return new SafeTensors(file, channel, dataStart, entries, chunkBytes);
    } catch (IOException e) {
      closeQuietlyAfterFailure(channel, e);
      throw new UncheckedIOException("cannot read " + file, e);
    } catch (RuntimeException e) {
      closeQuietlyAfterFailure(channel, e);
      throw e;
    }
  }

  /** Tensor entries by name, in the file's header order. */
  public Map<String, Entry> entries() {
    return Collections.unmodifiableMap(entries);
  }

  /**
   * Reads one tensor as a float32 array owned by {@code manager}. The bytes pass through one reused
   * buffer of at most the chunk size, with plain reads rather than memory maps: mapped pages and
   * fresh direct buffers are only released by a garbage collection, which a mostly idle heap may
   * not run for the model's whole life, and they count in the resident set meanwhile.
   */
  public NDArray load(String name, NDManager manager) {
    Entry e = entries.get(name);
    if (e == null) {
      throw new IllegalArgumentException(file + " holds no tensor named " + name);
    }
    long[] dims = e.shape().getShape();
    long size = e.shape().size();
    try {
      if (dims.length == 0 || size * Float.BYTES <= chunkBytes) {
        return ownedArray(readFloats(e, 0, size), e.shape(), manager);
      }
      long rowElements = size / dims[0];
      long rowsPerChunk = Math.max(1, chunkBytes / (rowElements * Float.BYTES));
      NDArray whole = manager.zeros(e.shape(), DataType.FLOAT32);
      try {
        for (long row = 0; row < dims[0]; row += rowsPerChunk) {
          long n = Math.min(rowsPerChunk, dims[0] - row);
          try (NDArray rows = manager.create(readFloats(e, row * rowElements, n * rowElements), new Shape(withFirst(dims, n)), DataType.FLOAT32)) {
            whole.set(new NDIndex("{}:{}", row, row + n), rows); // a copy: the buffer is reused for the next rows
          }
        }
      } catch (IOException | RuntimeException ex) {
        whole.close();
        throw ex;
      }
      return whole;
    } catch (IOException ex) {
      throw new UncheckedIOException("cannot read tensor " + name + " from " + file, ex);
    }
  }

  /**
   * Writes tensors as float32 into {@code file}, sorted by name. Arrays may live on any device.
   *
   * @param tensors arrays by tensor name; each is converted to float32 on the way out
   */
  public static void write(Map<String, NDArray> tensors, Path file) {
    write(tensors, file, DEFAULT_CHUNK_BYTES);
  }

  static void write(Map<String, NDArray> tensors, Path file, long chunkBytes) {
    Map<String, NDArray> sorted = new TreeMap<>(tensors);
    ObjectNode header = JSON.createObjectNode();
    header.putObject("__metadata__").put("format", "pt");
    long offset = 0;
    for (Map.Entry<String, NDArray> t : sorted.entrySet()) {
      long bytes = t.getValue().getShape().size() * Float.BYTES;
      ObjectNode entry = header.putObject(t.getKey());
      entry.put("dtype", Dtype.F32.name());
      var shape = entry.putArray("shape");
      for (long d : t.getValue().getShape().getShape()) {
        shape.add(d);
      }
      entry.putArray("data_offsets").add(offset).add(offset + bytes);
      offset += bytes;
    }
    byte[] headerJson = header.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (headerJson.length + 7) / 8 * 8;
    ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    prefix.putLong(padded).put(headerJson);
    while (prefix.hasRemaining()) {
      prefix.put((byte) ' ');
    }
    prefix.flip();
    try (FileChannel out = FileChannel.open(
        file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      writeFully(out, prefix);
      for (NDArray array : sorted.values()) {
        writeFloats(out, array, chunkBytes);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close " + file, e);
    }
  }

  private static Map<String, Entry> parseHeader(Path file, String json) throws IOException {
    JsonNode root = JSON.readTree(json);
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(file + ": safetensors header is not a JSON object");
    }
    Map<String, Entry> entries = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> field : root.properties()) {
      if (field.getKey().equals("__metadata__")) {
        continue;
      }
      JsonNode t = field.getValue();
      String dtype = t.path("dtype").asText();
      Dtype type;
      try {
        type = Dtype.valueOf(dtype);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            file + ": tensor " + field.getKey() + " has dtype " + dtype + "; only F32, F16 and BF16 are supported", e);
      }
      long[] shape = new long[t.path("shape").size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = t.path("shape").get(i).asLong();
      }
      JsonNode offsets = t.path("data_offsets");
      entries.put(field.getKey(), new Entry(field.getKey(), type, new Shape(shape), offsets.get(0).asLong(), offsets.get(1).asLong()));
    }
    return entries;
  }

  /**
   * Reads {@code count} elements starting at element {@code first} as native-order float32 into
   * this file's reused buffer, valid until the next call.
   */
  private ByteBuffer readFloats(Entry e, long first, long count) throws IOException {
    ByteBuffer out = scratch(count * Float.BYTES);
    if (count == 0) {
      return out;
    }
    long position = dataStart + e.begin() + first * e.dtype().bytes;
    if (e.dtype() == Dtype.F32 && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
      readFully(channel, out, position); // stored little-endian: the bytes are already native floats
      return out.flip();
    }
    // halves, or a big-endian machine: the raw bytes go to the buffer's tail, converted front to back
    // (an element's float never overtakes the raw bytes not yet read)
    long rawBytes = count * e.dtype().bytes;
    ByteBuffer raw = out.duplicate().clear().position(Math.toIntExact(out.capacity() - rawBytes)).slice().order(ByteOrder.LITTLE_ENDIAN);
    readFully(channel, raw, position);
    raw.flip();
    FloatBuffer dst = out.asFloatBuffer();
    switch (e.dtype()) {
      case F32 -> dst.put(raw.asFloatBuffer());
      case BF16 -> {
        ShortBuffer halves = raw.asShortBuffer();
        while (halves.hasRemaining()) {
          dst.put(Float.intBitsToFloat((halves.get() & 0xffff) << 16)); // bfloat16 is float32's top half
        }
      }
      case F16 -> {
        ShortBuffer halves = raw.asShortBuffer();
        while (halves.hasRemaining()) {
          dst.put(halfToFloat(halves.get()));
        }
      }
    }
    return out.limit(Math.toIntExact(count * Float.BYTES));
  }

  /** The reused read buffer, at least {@code bytes} long, positioned at 0 with that limit. */
  private ByteBuffer scratch(long bytes) {
    if (scratch == null || scratch.capacity() < bytes) {
      scratch = ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.nativeOrder());
    }
    return scratch.clear().limit(Math.toIntExact(bytes));
  }

  /**
   * An array that owns native memory. On CPU, PyTorch wraps a direct buffer without copying, so the
   * weights would stay in Java direct memory (bounded by -XX:MaxDirectMemorySize, i.e. the heap size)
   * for the model's whole life; the copy lets the buffer go at once.
   */
  private static NDArray ownedArray(ByteBuffer data, Shape shape, NDManager manager) {
    try (NDArray view = manager.create(data, shape, DataType.FLOAT32)) {
      return view.duplicate();
    }
  }

  /** IEEE 754 binary16 to binary32, exact (every half is a float); Java 17 has no Float.float16ToFloat. */
  static float halfToFloat(short half) {
    int sign = (half & 0x8000) << 16;
    int exponent = (half >>> 10) & 0x1f;
    int mantissa = half & 0x3ff;
    if (exponent == 0x1f) { // infinity or NaN, payload kept
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) { // zero or subnormal: mantissa × 2^-24
      float magnitude = mantissa * 0x1p-24f;
      return sign == 0 ? magnitude : -magnitude;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13)); // rebias 15 -> 127
  }

  private static void writeFloats(FileChannel out, NDArray array, long chunkBytes) throws IOException {
    long[] dims = array.getShape().getShape();
    if (dims.length == 0 || array.getShape().size() * Float.BYTES <= chunkBytes) {
      writeLittleEndian(out, array);
      return;
    }
    long rowBytes = Math.max(1, array.getShape().size() / dims[0] * Float.BYTES);
    long rowsPerChunk = Math.max(1, chunkBytes / rowBytes);
    for (long row = 0; row < dims[0]; row += rowsPerChunk) {
      try (NDArray chunk = array.get(new NDIndex("{}:{}", row, Math.min(dims[0], row + rowsPerChunk)))) {
        writeLittleEndian(out, chunk);
      }
    }
  }

  /**
   * Writes an array's floats. On a little-endian machine the bytes go out straight from the
   * array's native memory (a direct view): copying them through the heap instead made the heap
   * grow toward -Xmx while a checkpoint of gigabytes was written, and stay resident after.
   */
  private static void writeLittleEndian(FileChannel out, NDArray array) throws IOException {
    if (array.getDataType() != DataType.FLOAT32) {
      try (NDArray f32 = array.toType(DataType.FLOAT32, true)) {
        writeLittleEndian(out, f32);
      }
      return;
    }
    // the scope closes the copy DJL makes of an array that is not contiguous or not on the CPU
    try (NDScope scope = new NDScope()) {
      ByteBuffer data = array.toByteBuffer(true).order(ByteOrder.nativeOrder());
      if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
        writeFully(out, data);
        return;
      }
      ByteBuffer le = ByteBuffer.allocate(data.remaining()).order(ByteOrder.LITTLE_ENDIAN);
      le.asFloatBuffer().put(data.asFloatBuffer());
      writeFully(out, le);
    }
  }

  private static long[] withFirst(long[] dims, long first) {
    long[] copy = dims.clone();
    copy[0] = first;
    return copy;
  }

  private static void readFully(FileChannel channel, ByteBuffer into, long position) throws IOException {
    while (into.hasRemaining()) {
      int n = channel.read(into, position + into.position());
      if (n < 0) {
        throw new IOException("unexpected end of file");
      }
    }
  }

  private static void writeFully(FileChannel out, ByteBuffer data) throws IOException {
    while (data.hasRemaining()) {
      out.write(data);
    }
  }

  private static void closeQuietlyAfterFailure(FileChannel channel, Exception failure) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException e) {
        failure.addSuppressed(e);
      }
    }
  }
}
