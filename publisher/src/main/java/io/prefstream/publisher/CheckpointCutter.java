package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointChunk;
import io.prefstream.schemas.CheckpointFile;
import io.prefstream.schemas.CheckpointManifest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Cuts checkpoint folders into chunks of at most {@code chunkBytes} and describes them in a
 * manifest: each file with its size and SHA-256, each chunk's SHA-256, in chunk order.
 */
public final class CheckpointCutter {
  public static final int DEFAULT_CHUNK_BYTES = 1024 * 1024;
  private final int chunkBytes;

  public CheckpointCutter(int chunkBytes) {
    if (chunkBytes < 1) throw new IllegalArgumentException("chunk size must be >= 1 byte, got " + chunkBytes);
    this.chunkBytes = chunkBytes;
  }

  /** The cut: chunks first, then the manifest that names them. */
  public record Cut(List<CheckpointChunk> chunks, CheckpointManifest manifest) {}

  /**
   * @param serving the folder serving fleets load (HF model or PEFT adapter)
   * @param companion files to resume training (optimizer state), kept out of the serving folder; may be null
   * @param manifest the manifest's other fields (version, metrics, offsets...); files and chunks are filled in here
   */
  public Cut cut(Path serving, Path companion, CheckpointManifest.Builder manifest) {
    Map<String, byte[]> servingFiles = read(serving);
    Map<String, byte[]> companionFiles = companion == null ? Map.of() : prefixed(read(companion));
    List<CheckpointChunk> chunks = new ArrayList<>();
    List<String> chunkShas = new ArrayList<>();
    String model = manifest.getModelName();
    long version = manifest.getVersion();
    for (Map<String, byte[]> files : List.of(servingFiles, companionFiles)) {
      files.forEach((path, bytes) -> {
        for (int offset = 0; offset == 0 || offset < bytes.length; offset += chunkBytes) {
          byte[] slice = Arrays.copyOfRange(bytes, offset, Math.min(bytes.length, offset + chunkBytes));
          String sha = Sha256.hex(slice);
          chunks.add(CheckpointChunk.newBuilder().setModelName(model).setVersion(version).setIndex(chunks.size())
              .setPath(path).setOffset(offset).setData(ByteBuffer.wrap(slice)).setSha256(sha).build());
          chunkShas.add(sha);
          if (bytes.length == 0) break;
        }
      });
    }
    CheckpointManifest m = manifest
        .setFiles(describe(servingFiles))
        .setCompanionFiles(describe(companionFiles))
        .setChunkCount(chunks.size())
        .setChunkSha256(chunkShas)
        .build();
    return new Cut(chunks, m);
  }

  /** Companion files travel under this folder name, so they never mix with the serving files. */
  public static final String COMPANION_PREFIX = "_trainer_state/";

  private static Map<String, byte[]> prefixed(Map<String, byte[]> files) {
    Map<String, byte[]> out = new TreeMap<>();
    files.forEach((p, b) -> out.put(COMPANION_PREFIX + p, b));
    return out;
  }

  private static List<CheckpointFile> describe(Map<String, byte[]> files) {
    List<CheckpointFile> out = new ArrayList<>();
    files.forEach((path, bytes) -> out.add(new CheckpointFile(path, (long) bytes.length, Sha256.hex(bytes))));
    return out;
  }

  /** Every regular file under the folder by '/'-separated relative path, in sorted order. */
  static Map<String, byte[]> read(Path folder) {
    Map<String, byte[]> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(folder)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        files.put(folder.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read checkpoint folder " + folder, e);
    }
    if (files.isEmpty()) throw new IllegalArgumentException("checkpoint folder " + folder + " has no files");
    return files;
  }
}
