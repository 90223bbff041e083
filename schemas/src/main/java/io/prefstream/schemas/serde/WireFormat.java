package io.prefstream.schemas.serde;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.HexFormat;

/**
 * Confluent's wire format: byte 0 is the magic byte 0, bytes 1-4 the schema id (big-endian), the
 * rest the Avro binary encoding of the value.
 */
public final class WireFormat {
  public static final byte MAGIC_BYTE = 0;
  public static final int HEADER_LENGTH = 5;
  private static final int PREVIEW_BYTES = 16;

  private WireFormat() {}

  public static byte[] frame(int schemaId, byte[] avro) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(HEADER_LENGTH + avro.length);
    writeHeader(out, schemaId);
    out.writeBytes(avro);
    return out.toByteArray();
  }

  /** Writes the magic byte and the schema id: what goes before the Avro bytes. */
  public static void writeHeader(ByteArrayOutputStream out, int schemaId) {
    out.write(MAGIC_BYTE);
    out.write(schemaId >>> 24);
    out.write(schemaId >>> 16);
    out.write(schemaId >>> 8);
    out.write(schemaId);
  }

  /** Whether the bytes start like a framed Avro value. */
  public static boolean isFramed(byte[] bytes) {
    return bytes.length >= HEADER_LENGTH && bytes[0] == MAGIC_BYTE;
  }

  public static int schemaId(byte[] framed) {
    return ByteBuffer.wrap(framed, 1, 4).getInt();
  }

  /** A copy of a framed value with another schema id in its header. */
  public static byte[] withSchemaId(byte[] framed, int schemaId) {
    byte[] copy = framed.clone();
    ByteBuffer.wrap(copy, 1, 4).putInt(schemaId);
    return copy;
  }

  /** The first bytes as hex, for error messages. */
  public static String preview(byte[] bytes) {
    if (bytes == null) return "(null)";
    int n = Math.min(bytes.length, PREVIEW_BYTES);
    return HexFormat.ofDelimiter(" ").formatHex(bytes, 0, n) + (bytes.length > n ? " ..." : "")
        + " (" + bytes.length + " bytes)";
  }
}
