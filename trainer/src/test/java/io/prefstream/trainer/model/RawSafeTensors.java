package io.prefstream.trainer.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes safetensors files byte by byte, in any dtype, independently of {@link SafeTensors}. */
final class RawSafeTensors {

  record Tensor(String dtype, long[] shape, byte[] data) {}

  private final Map<String, Tensor> tensors = new LinkedHashMap<>();

  RawSafeTensors put(String name, String dtype, long[] shape, byte[] data) {
    tensors.put(name, new Tensor(dtype, shape, data));
    return this;
  }

  void write(Path file) throws IOException {
    ObjectNode header = new ObjectMapper().createObjectNode();
    long offset = 0;
    for (Map.Entry<String, Tensor> t : tensors.entrySet()) {
      ObjectNode e = header.putObject(t.getKey());
      e.put("dtype", t.getValue().dtype());
      var shape = e.putArray("shape");
      for (long d : t.getValue().shape()) {
        shape.add(d);
      }
      e.putArray("data_offsets").add(offset).add(offset + t.getValue().data().length);
      offset += t.getValue().data().length;
    }
    byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
    ByteBuffer out = ByteBuffer.allocate((int) (8 + json.length + offset)).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(json.length).put(json);
    tensors.values().forEach(t -> out.put(t.data()));
    Files.write(file, out.array());
  }

  /** float32 values as little-endian bytes of the given 2-byte or 4-byte dtype; values must be exact in it. */
  static byte[] encode(float[] values, String dtype) {
    ByteBuffer b = ByteBuffer.allocate(values.length * (dtype.equals("F32") ? 4 : 2)).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      switch (dtype) {
        case "F32" -> b.putFloat(v);
        case "BF16" -> b.putShort((short) (Float.floatToIntBits(v) >>> 16));
        case "F16" -> b.putShort(toHalf(v));
        default -> throw new IllegalArgumentException(dtype);
      }
    }
    return b.array();
  }

  /** float32 to binary16 for normal, exactly representable values (what the tests use). */
  private static short toHalf(float v) {
    int bits = Float.floatToIntBits(v);
    int sign = (bits >>> 16) & 0x8000;
    if (v == 0) {
      return (short) sign;
    }
    int exponent = ((bits >>> 23) & 0xff) - 127 + 15;
    if (exponent <= 0 || exponent >= 31 || (bits & 0x1fff) != 0) {
      throw new IllegalArgumentException(v + " is not a normal binary16 value");
    }
    return (short) (sign | (exponent << 10) | ((bits >>> 13) & 0x3ff));
  }
}
