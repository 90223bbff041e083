package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointChunk;
import io.prefstream.schemas.CheckpointFile;
import io.prefstream.schemas.CheckpointManifest;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Collects chunks as they come off the model topic (versions may interleave) and, when a version's
 * manifest arrives, puts its files together and verifies them: chunk count and hashes, file sizes
 * and hashes, safe file names, and the signature when a public key is required.
 */
public final class CheckpointAssembler {
  private final Optional<PublicKey> requiredSigner;
  private final Map<String, Map<Integer, CheckpointChunk>> pending = new HashMap<>();

  public CheckpointAssembler(Optional<PublicKey> requiredSigner) {
    this.requiredSigner = requiredSigner;
  }

  public void add(CheckpointChunk chunk) {
    pending.computeIfAbsent(key(chunk.getModelName(), chunk.getVersion()), k -> new TreeMap<>()).put(chunk.getIndex(), chunk);
  }

  /**
   * The checkpoint the manifest describes, its chunks released.
   *
   * @throws CheckpointRejectedException saying what is wrong
   */
  public Checkpoint complete(CheckpointManifest manifest) {
    String what = manifest.getModelName() + " v" + manifest.getVersion();
    Map<Integer, CheckpointChunk> chunks = pending.remove(key(manifest.getModelName(), manifest.getVersion()));
    if (requiredSigner.isPresent() && !ManifestSignature.isSignedBy(manifest, requiredSigner.get())) {
      throw new CheckpointRejectedException(what + ": " + (manifest.getSignature() == null ? "unsigned" : "signature does not verify with the given public key"));
    }
    if (chunks == null) chunks = Map.of();
    Map<String, ByteArrayOutputStream> files = new LinkedHashMap<>();
    for (int i = 0; i < manifest.getChunkCount(); i++) {
      CheckpointChunk chunk = chunks.get(i);
      if (chunk == null) throw new CheckpointRejectedException(what + ": chunk " + i + " of " + manifest.getChunkCount() + " is missing");
      byte[] data = bytes(chunk.getData());
      if (!Sha256.hex(data).equals(chunk.getSha256()) || !chunk.getSha256().equals(manifest.getChunkSha256().get(i))) {
        throw new CheckpointRejectedException(what + ": chunk " + i + " (" + chunk.getPath() + ") does not match its SHA-256");
      }
      ByteArrayOutputStream file = files.computeIfAbsent(safePath(what, chunk.getPath()), p -> new ByteArrayOutputStream());
      if (file.size() != chunk.getOffset()) throw new CheckpointRejectedException(what + ": chunk " + i + " starts at " + chunk.getOffset() + ", expected " + file.size());
      file.writeBytes(data);
    }
    List<CheckpointFile> described = new ArrayList<>(manifest.getFiles());
    described.addAll(manifest.getCompanionFiles());
    Map<String, byte[]> out = new LinkedHashMap<>();
    for (CheckpointFile f : described) {
      ByteArrayOutputStream got = files.remove(safePath(what, f.getPath()));
      byte[] data = got == null ? new byte[0] : got.toByteArray();
      if (got == null || data.length != f.getSize() || !Sha256.hex(data).equals(f.getSha256())) {
        throw new CheckpointRejectedException(what + ": file " + f.getPath() + " does not match its size and SHA-256");
      }
      out.put(f.getPath(), data);
    }
    if (!files.isEmpty()) throw new CheckpointRejectedException(what + ": chunks of files the manifest does not list: " + files.keySet());
    return new Checkpoint(manifest, out);
  }

  /** A relative path that stays inside the checkpoint folder. */
  static String safePath(String what, String path) {
    Path p = Path.of(path).normalize();
    if (path.isEmpty() || p.isAbsolute() || p.startsWith("..") || path.contains("\\") || !p.toString().equals(path)) {
      throw new CheckpointRejectedException(what + ": file name '" + path + "' would escape the checkpoint folder");
    }
    return path;
  }

  private static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer b = buffer.duplicate();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  private static String key(String model, long version) {
    return model + '\0' + version;
  }
}
