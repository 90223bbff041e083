package io.prefstream.ingest;

import io.prefstream.schemas.serde.WireFormat;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Confluent-wire PreferencePair values written byte by byte, with one length prefix that claims far
 * more than follows: what a hostile or broken producer can send with kcat. Field order and
 * encodings follow PreferencePair.avsc (strings and collections are length-prefixed zig-zag longs;
 * a nullable field is a union index, then the value).
 */
final class HostileValues {
  static final long CLAIM = 2_147_483_639L; // Avro's own upper bound: Integer.MAX_VALUE - 8

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  private HostileValues(int schemaId) {
    byte[] header = WireFormat.frame(schemaId, new byte[0]);
    out.writeBytes(header);
  }

  /** event_id claiming {@link #CLAIM} bytes, then a few. */
  static byte[] stringClaiming(int schemaId) {
    HostileValues v = new HostileValues(schemaId);
    v.varLong(CLAIM);
    v.out.writeBytes("e-bomb".getBytes(StandardCharsets.UTF_8));
    return v.out.toByteArray();
  }

  /** A valid start, then prompt_ids claiming {@link #CLAIM} ints, then none. */
  static byte[] arrayClaiming(int schemaId) {
    HostileValues v = new HostileValues(schemaId).validTexts();
    v.varLong(1); // prompt_ids: the array branch
    v.varLong(CLAIM);
    v.varLong(7); // one int, then the bytes end
    return v.out.toByteArray();
  }

  /** A valid pair up to metadata, which claims {@link #CLAIM} entries. */
  static byte[] mapClaiming(int schemaId) {
    HostileValues v = new HostileValues(schemaId).validTexts();
    v.varLong(0); // prompt_ids null
    v.varLong(0); // chosen_ids null
    v.varLong(0); // rejected_ids null
    v.varLong(0); // source null
    v.varLong(0); // event_time 0
    v.out.writeBytes(new byte[8]); // weight: a double... 0.0, but reading stops at the map first
    v.varLong(CLAIM);
    return v.out.toByteArray();
  }

  private HostileValues validTexts() {
    string("e-bomb");
    union(); string("p1");
    union(); string("Say hi");
    union(); string("Hi!");
    union(); string("Go away.");
    return this;
  }

  private void union() {
    varLong(1); // the non-null branch of ["null", T]
  }

  private void string(String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    varLong(bytes.length);
    out.writeBytes(bytes);
  }

  private void varLong(long n) {
    long z = (n << 1) ^ (n >> 63);
    while ((z & ~0x7FL) != 0) {
      out.write((int) ((z & 0x7F) | 0x80));
      z >>>= 7;
    }
    out.write((int) z);
  }

  /** A JSON object nested {@code depth} deep inside the metadata field. */
  static byte[] jsonNested(int depth) {
    StringBuilder s = new StringBuilder("{\"event_id\":\"e-deep\",\"prompt\":\"Say hi\",\"chosen\":\"Hi!\",\"rejected\":\"Go away.\",\"metadata\":");
    s.append("{\"a\":".repeat(depth)).append("1").append("}".repeat(depth)).append('}');
    return s.toString().getBytes(StandardCharsets.UTF_8);
  }
}
