package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointChunk;
import io.prefstream.schemas.CheckpointFile;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.ChunkRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Cuts checkpoint folders into chunks of at most {@code chunkBytes}, streaming each file (one
 * chunk in memory at a time, hashed as it is read), and describes them in the manifest: each file
 * with its size and SHA-256, each chunk with its file, offset, length and SHA-256, in chunk order.
 */
public final class CheckpointCutter {
  public static final int DEFAULT_CHUNK_BYTES = 1024 * 1024;
  /** Companion files travel under this folder name, so they never mix with the serving files. */
  public static final String COMPANION_PREFIX = "_trainer_state/";
  private final int chunkBytes;

  public CheckpointCutter(int chunkBytes) {
    if (chunkBytes < 1) throw new IllegalArgumentException("chunk size must be >= 1 byte, got " + chunkBytes);
    this.chunkBytes = chunkBytes;
  }

  /**
   * Hands each chunk to {@code chunks} as it is cut, then fills in the manifest's files and chunks.
   *
   * @param serving the folder serving fleets load (HF model or PEFT adapter)
   * @param companion files to resume training (optimizer state), kept out of the serving folder; may be null
   * @param manifest the manifest's other fields (version, metrics, offsets...)
   * @return {@code manifest}, its files, chunk list and count filled in
   */
  public CheckpointManifest.Builder cut(Path serving, Path companion, CheckpointManifest.Builder manifest, Consumer<CheckpointChunk> chunks) {
    List<ChunkRef> refs = new ArrayList<>();
    ChunkSink sink = (path, offset, data) -> {
      String sha = Sha256.hex(data);
      chunks.accept(CheckpointChunk.newBuilder().setModelName(manifest.getModelName()).setVersion(manifest.getVersion()).setIndex(refs.size())
          .setPath(path).setOffset(offset).setData(ByteBuffer.wrap(data)).setSha256(sha).build());
      refs.add(new ChunkRef(path, offset, data.length, sha));
    };
    List<CheckpointFile> servingFiles = cutFolder(serving, "", sink);
    List<CheckpointFile> companionFiles = companion == null ? List.of() : cutFolder(companion, COMPANION_PREFIX, sink);
    return manifest.setFiles(servingFiles).setCompanionFiles(companionFiles).setChunkCount(refs.size()).setChunks(refs);
  }

  /**
   * The folder's files with their sizes and SHA-256, as a manifest lists serving files: what a
   * folder on disk is compared with before it is taken for a manifest's checkpoint.
   */
  public List<CheckpointFile> describe(Path folder) {
    return cutFolder(folder, "", (path, offset, data) -> {});
  }

  private interface ChunkSink {
    void accept(String path, long offset, byte[] data);
  }

  private List<CheckpointFile> cutFolder(Path folder, String prefix, ChunkSink sink) {
    List<CheckpointFile> described = new ArrayList<>();
    for (Path file : files(folder)) {
      String path = prefix + folder.relativize(file).toString().replace('\\', '/');
      MessageDigest fileHash = Sha256.digest();
      long size = 0;
      try (InputStream in = Files.newInputStream(file)) {
        while (true) {
          byte[] slice = in.readNBytes(chunkBytes);
          if (slice.length == 0 && size > 0) break; // an empty file still gets its one (empty) chunk
          fileHash.update(slice);
          sink.accept(path, size, slice);
          size += slice.length;
          if (slice.length < chunkBytes) break;
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read checkpoint file " + file, e);
      }
      described.add(new CheckpointFile(path, size, Sha256.hex(fileHash)));
    }
    return described;
  }

  /** Every regular file under the folder, in the order of their '/'-separated relative paths. */
  private static List<Path> files(Path folder) {
    try (Stream<Path> walk = Files.walk(folder)) {
      List<Path> files = walk.filter(Files::isRegularFile)
          .sorted((a, b) -> folder.relativize(a).toString().replace('\\', '/').compareTo(folder.relativize(b).toString().replace('\\', '/'))).toList();
      if (files.isEmpty()) throw new IllegalArgumentException("checkpoint folder " + folder + " has no files");
      return files;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read checkpoint folder " + folder, e);
    }
  }
}
