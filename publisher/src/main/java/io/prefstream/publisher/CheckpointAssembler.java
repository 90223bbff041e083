package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointChunk;
import io.prefstream.schemas.CheckpointFile;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.ChunkRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Collects a model's chunks as they come off the model topic (versions may interleave; they wait on
 * disk, see {@link PendingChunks}) and, when a version's manifest arrives, verifies it and streams
 * its files together into a folder: the signature first (when a public key is required), then the
 * signed chunk list (each file covered from 0 to its size, safe names), then, as the bytes are
 * copied, every chunk (picked by the hash it was checked against on arrival) and every file's size
 * and hash. Memory holds one copy buffer, whatever
 * the checkpoint's size. A manifest that fails its signature or chunk list leaves the pending
 * chunks alone, so an unsigned or forged one cannot evict the genuine version in flight.
 */
public final class CheckpointAssembler implements AutoCloseable {
  private static final int BUFFER = 1 << 16;
  private final Optional<PublicKey> requiredSigner;
  private final PendingChunks pending;
  private final Path workDir;
  private final Path assembling;

  /**
   * @param workDir emptied, then holds pending chunks and checkpoints being assembled (deleted on close); on the file
   *     system of the folders checkpoints are moved into, so the move is a rename
   */
  public CheckpointAssembler(Optional<PublicKey> requiredSigner, Path workDir, PendingChunks.Limits limits) {
    this.requiredSigner = requiredSigner;
    this.workDir = Folders.fresh(workDir);
    this.pending = new PendingChunks(workDir.resolve("pending"), limits);
    this.assembling = Folders.fresh(workDir.resolve("assembling"));
  }

  /**
   * @param timestamp the record's timestamp (negative: none), the clock pending chunks age by
   * @throws CheckpointRejectedException when the chunk's data does not match its own hash
   */
  public void add(CheckpointChunk chunk, long timestamp) {
    pending.add(chunk, timestamp);
  }

  /** Whether the manifest carries the signature this assembler requires (always, when it requires none). */
  public boolean trusts(CheckpointManifest manifest) {
    return requiredSigner.map(key -> ManifestSignature.isSignedBy(manifest, key)).orElse(true);
  }

  /** Forgets pending chunks of every version up to this one: they can no longer be used. */
  public void discardUpTo(long version) {
    pending.discardUpTo(version);
  }

  /**
   * The checkpoint the manifest describes, assembled and verified; its pending chunks released.
   *
   * @throws CheckpointRejectedException saying what is wrong; pending chunks are kept
   */
  public Checkpoint complete(CheckpointManifest manifest) {
    String what = manifest.getModelName() + " v" + manifest.getVersion();
    if (!trusts(manifest)) {
      throw new CheckpointRejectedException(what + ": " + (manifest.getSignature() == null ? "unsigned" : "signature does not verify with the given public key"));
    }
    Map<String, CheckpointFile> files = describedFiles(what, manifest);
    checkChunkList(what, manifest, files);
    Path root = assembling.resolve("v" + manifest.getVersion() + "-" + System.nanoTime());
    try {
      Map<String, MessageDigest> fileHashes = new HashMap<>();
      for (int i = 0; i < manifest.getChunks().size(); i++) {
        int index = i;
        ChunkRef ref = manifest.getChunks().get(i);
        Path chunk = pending.chunk(manifest.getVersion(), i, ref.getSha256())
            .orElseThrow(() -> new CheckpointRejectedException(what + ": chunk " + index + " of " + manifest.getChunkCount() + " is missing"));
        append(what, i, ref, chunk, target(root, ref.getPath()), fileHashes.computeIfAbsent(ref.getPath(), p -> Sha256.digest()));
        Files.delete(chunk); // disk holds the checkpoint about once, not twice; a trusted manifest failing past here is broken anyway
      }
      for (CheckpointFile f : files.values()) {
        Path file = target(root, f.getPath());
        if (!Files.exists(file)) Files.createDirectories(file.getParent());
        if (!Files.exists(file)) Files.createFile(file);
        String sha = Sha256.hex(fileHashes.getOrDefault(f.getPath(), Sha256.digest()));
        if (Files.size(file) != f.getSize() || !sha.equals(f.getSha256())) {
          throw new CheckpointRejectedException(what + ": file " + f.getPath() + " does not match its size and SHA-256");
        }
      }
      Files.createDirectories(root.resolve("serving"));
      Files.createDirectories(root.resolve("companion"));
      pending.discard(manifest.getVersion());
      return new Checkpoint(manifest, root);
    } catch (IOException e) { // e.g. a file listed both as a file and as a folder; or a full disk: either way not this version
      Folders.deleteQuietly(root);
      throw new CheckpointRejectedException(what + ": cannot be written to " + root + ": " + e);
    } catch (RuntimeException e) {
      Folders.deleteQuietly(root);
      throw e;
    }
  }

  /** Serving and companion files by path, every name safe and in its place. */
  private static Map<String, CheckpointFile> describedFiles(String what, CheckpointManifest manifest) {
    Map<String, CheckpointFile> files = new LinkedHashMap<>();
    List<CheckpointFile> all = new ArrayList<>(manifest.getFiles());
    all.addAll(manifest.getCompanionFiles());
    for (CheckpointFile f : all) {
      safePath(what, f.getPath());
      boolean companion = manifest.getCompanionFiles().contains(f);
      if (companion != f.getPath().startsWith(CheckpointCutter.COMPANION_PREFIX) || f.getPath().equals(CheckpointCutter.COMPANION_PREFIX)) {
        throw new CheckpointRejectedException(what + ": file " + f.getPath() + " is listed as " + (companion ? "a companion" : "a serving") + " file");
      }
      if (f.getSize() < 0 || files.put(f.getPath(), f) != null) throw new CheckpointRejectedException(what + ": file " + f.getPath() + " is listed twice or with a negative size");
    }
    return files;
  }

  /** The signed chunk list covers each listed file from 0 to its size, in order, and nothing else. */
  private static void checkChunkList(String what, CheckpointManifest manifest, Map<String, CheckpointFile> files) {
    if (manifest.getChunks().size() != manifest.getChunkCount()) {
      throw new CheckpointRejectedException(what + ": lists " + manifest.getChunks().size() + " chunks but counts " + manifest.getChunkCount());
    }
    Map<String, Long> next = new HashMap<>();
    for (int i = 0; i < manifest.getChunks().size(); i++) {
      ChunkRef ref = manifest.getChunks().get(i);
      if (!files.containsKey(ref.getPath())) throw new CheckpointRejectedException(what + ": chunk " + i + " belongs to " + ref.getPath() + ", a file the manifest does not list");
      long expected = next.getOrDefault(ref.getPath(), 0L);
      if (ref.getOffset() != expected || ref.getLength() < 0) {
        throw new CheckpointRejectedException(what + ": chunk " + i + " starts at " + ref.getOffset() + " of " + ref.getPath() + ", expected " + expected);
      }
      next.put(ref.getPath(), expected + ref.getLength());
    }
    for (CheckpointFile f : files.values()) {
      if (next.getOrDefault(f.getPath(), 0L) != f.getSize()) throw new CheckpointRejectedException(what + ": the chunks of " + f.getPath() + " do not add up to its size");
    }
  }

  /** Appends a pending chunk (its hash checked as it arrived, see {@link PendingChunks#add}) to its file, hashing the file as it grows. */
  private static void append(String what, int index, ChunkRef ref, Path chunk, Path file, MessageDigest fileHash) throws IOException {
    Files.createDirectories(file.getParent());
    long copied = 0;
    byte[] buffer = new byte[BUFFER];
    try (InputStream in = Files.newInputStream(chunk);
        OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
      for (int n; (n = in.read(buffer)) > 0; copied += n) {
        fileHash.update(buffer, 0, n);
        out.write(buffer, 0, n);
      }
    }
    if (copied != ref.getLength()) {
      throw new CheckpointRejectedException(what + ": chunk " + index + " (" + ref.getPath() + ") has " + copied + " bytes, the manifest says " + ref.getLength());
    }
  }

  /** Where a file goes: serving files under serving/, companion files without their prefix under companion/. */
  private static Path target(Path root, String path) {
    return path.startsWith(CheckpointCutter.COMPANION_PREFIX)
        ? root.resolve("companion").resolve(path.substring(CheckpointCutter.COMPANION_PREFIX.length()))
        : root.resolve("serving").resolve(path);
  }

  /** A relative path that stays inside the checkpoint folder. */
  static String safePath(String what, String path) {
    Path p;
    try {
      p = Path.of(path).normalize();
    } catch (java.nio.file.InvalidPathException e) {
      throw new CheckpointRejectedException(what + ": file name '" + path + "' is not a valid path");
    }
    if (path.isEmpty() || p.isAbsolute() || p.startsWith("..") || path.contains("\\") || !p.toString().equals(path)) {
      throw new CheckpointRejectedException(what + ": file name '" + path + "' would escape the checkpoint folder");
    }
    return path;
  }

  @Override
  public void close() {
    pending.close();
    Folders.deleteQuietly(workDir);
  }
}
