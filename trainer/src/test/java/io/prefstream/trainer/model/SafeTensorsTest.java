package io.prefstream.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {

  @TempDir Path dir;

  @Test
  void load_inSmallChunksEqualsTheWholeTensor() throws Exception {
    float[] values = new float[7 * 5];
    for (int i = 0; i < values.length; i++) {
      values[i] = i * 0.25f - 3;
    }
    Path file = dir.resolve("t.safetensors");
    new RawSafeTensors().put("w", "F32", new long[] {7, 5}, RawSafeTensors.encode(values, "F32")).write(file);
    NDManager m = TinyModels.manager().newSubManager();
    try (m; SafeTensors chunked = SafeTensors.open(file, 2 * 5 * Float.BYTES)) { // two rows a chunk: 4 chunks
      NDArray w = chunked.load("w", m);
      assertThat(w.getShape()).isEqualTo(new Shape(7, 5));
      assertThat(w.toFloatArray()).containsExactly(values);
    }
  }

  @Test
  void write_inSmallChunksGivesTheSameBytes() throws Exception {
    NDManager m = TinyModels.manager().newSubManager();
    try (m) {
      Map<String, NDArray> tensors = new LinkedHashMap<>();
      tensors.put("b", m.randomNormal(new Shape(9, 3)));
      tensors.put("a", m.randomNormal(new Shape(4)));
      tensors.put("s", m.create(2.5f));
      SafeTensors.write(tensors, dir.resolve("whole.safetensors"));
      SafeTensors.write(tensors, dir.resolve("chunked.safetensors"), 3 * Float.BYTES);
      assertThat(Files.readAllBytes(dir.resolve("chunked.safetensors"))).isEqualTo(Files.readAllBytes(dir.resolve("whole.safetensors")));
      try (SafeTensors read = SafeTensors.open(dir.resolve("whole.safetensors"))) {
        assertThat(read.entries().keySet()).containsExactly("a", "b", "s");
        assertThat(read.load("b", m).toFloatArray()).containsExactly(tensors.get("b").toFloatArray());
        assertThat(read.load("s", m).getFloat()).isEqualTo(2.5f);
      }
    }
  }

  @Test
  void write_padsTheHeaderToEightBytes() throws Exception {
    NDManager m = TinyModels.manager().newSubManager();
    try (m) {
      SafeTensors.write(Map.of("x", m.ones(new Shape(3))), dir.resolve("x.safetensors"));
      byte[] bytes = Files.readAllBytes(dir.resolve("x.safetensors"));
      long headerLength = java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
      assertThat(headerLength % 8).isZero();
      assertThat(bytes).hasSize((int) (8 + headerLength + 3 * Float.BYTES));
    }
  }

  @Test
  void halfToFloat_decodesNormalsSubnormalsAndSpecials() {
    assertThat(SafeTensors.halfToFloat((short) 0x3c00)).isEqualTo(1f);
    assertThat(SafeTensors.halfToFloat((short) 0xc000)).isEqualTo(-2f);
    assertThat(SafeTensors.halfToFloat((short) 0x7bff)).isEqualTo(65504f);
    assertThat(SafeTensors.halfToFloat((short) 0x0001)).isEqualTo(0x1p-24f);
    assertThat(SafeTensors.halfToFloat((short) 0x8000)).isEqualTo(-0f);
    assertThat(SafeTensors.halfToFloat((short) 0xfc00)).isEqualTo(Float.NEGATIVE_INFINITY);
    assertThat(SafeTensors.halfToFloat((short) 0x7e00)).isNaN();
  }

  @Test
  void open_rejectsDataOffsetsPastTheEndOfFile() throws Exception {
    Path file = dir.resolve("short.safetensors");
    new RawSafeTensors().put("w", "F32", new long[] {2}, RawSafeTensors.encode(new float[] {1, 2}, "F32")).write(file);
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 4));
    assertThatThrownBy(() -> SafeTensors.open(file)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("w");
  }

  @Test
  void open_rejectsUnsupportedDtypesByName() throws Exception {
    Path file = dir.resolve("i8.safetensors");
    new RawSafeTensors().put("q", "I8", new long[] {2}, new byte[] {1, 2}).write(file);
    assertThatThrownBy(() -> SafeTensors.open(file)).hasMessageContaining("q").hasMessageContaining("I8");
  }
}
