package io.prefstream.publisher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.schemas.CheckpointChunk;
import io.prefstream.schemas.CheckpointManifest;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointAssemblerTest {
  @TempDir Path tmp;

  private CheckpointCutter.Cut cut(String model, long version, int bytes) throws Exception {
    Path folder = Fixtures.folder(tmp.resolve(model + "-" + version), bytes, version);
    return new CheckpointCutter(1000).cut(folder, null, Fixtures.manifest(model, version, 0.9));
  }

  @Test
  void cutThenAssembled_givesTheSameFiles() throws Exception {
    CheckpointCutter.Cut cut = cut("m", 1, 4500);
    CheckpointAssembler assembler = new CheckpointAssembler(Optional.empty());
    cut.chunks().forEach(assembler::add);
    Checkpoint checkpoint = assembler.complete(cut.manifest());
    var original = CheckpointCutter.read(tmp.resolve("m-1"));
    assertThat(checkpoint.files().keySet()).containsExactlyInAnyOrderElementsOf(original.keySet());
    original.forEach((path, bytes) -> assertThat(checkpoint.files().get(path)).isEqualTo(bytes));
    assertThat(cut.chunks()).hasSize(5 + 1 + 1); // 4500 bytes in 1000-byte chunks, two small files
  }

  @Test
  void interleavedVersions_assembleEachCorrectly() throws Exception {
    CheckpointCutter.Cut a = cut("m", 1, 3000);
    CheckpointCutter.Cut b = cut("m", 2, 3000);
    CheckpointAssembler assembler = new CheckpointAssembler(Optional.empty());
    for (int i = 0; i < Math.max(a.chunks().size(), b.chunks().size()); i++) {
      if (i < b.chunks().size()) assembler.add(b.chunks().get(i));
      if (i < a.chunks().size()) assembler.add(a.chunks().get(i));
    }
    assertThat(assembler.complete(b.manifest()).files().get("config.json")).asString().contains("\"seed\":2");
    assertThat(assembler.complete(a.manifest()).files().get("config.json")).asString().contains("\"seed\":1");
  }

  @Test
  void flippedByte_isRefused() throws Exception {
    CheckpointCutter.Cut cut = cut("m", 1, 3000);
    CheckpointAssembler assembler = new CheckpointAssembler(Optional.empty());
    for (CheckpointChunk c : cut.chunks()) {
      if (c.getIndex() == 2) {
        byte[] data = c.getData().array().clone();
        data[10] ^= 1;
        c = CheckpointChunk.newBuilder(c).setData(ByteBuffer.wrap(data)).build();
      }
      assembler.add(c);
    }
    assertThatThrownBy(() -> assembler.complete(cut.manifest())).isInstanceOf(CheckpointRejectedException.class).hasMessageContaining("chunk 2");
  }

  @Test
  void missingChunk_isRefused() throws Exception {
    CheckpointCutter.Cut cut = cut("m", 1, 3000);
    CheckpointAssembler assembler = new CheckpointAssembler(Optional.empty());
    cut.chunks().stream().filter(c -> c.getIndex() != 1).forEach(assembler::add);
    assertThatThrownBy(() -> assembler.complete(cut.manifest())).isInstanceOf(CheckpointRejectedException.class).hasMessageContaining("chunk 1 of");
  }

  @Test
  void escapingFileName_isRefused() throws Exception {
    CheckpointCutter.Cut cut = cut("m", 1, 10);
    List<CheckpointChunk> chunks = new ArrayList<>();
    for (CheckpointChunk c : cut.chunks()) chunks.add(c.getPath().equals("config.json") ? CheckpointChunk.newBuilder(c).setPath("../evil.sh").build() : c);
    CheckpointAssembler assembler = new CheckpointAssembler(Optional.empty());
    chunks.forEach(assembler::add);
    assertThatThrownBy(() -> assembler.complete(cut.manifest())).isInstanceOf(CheckpointRejectedException.class).hasMessageContaining("escape");
  }

  @Test
  void signature_validIsAccepted_forgedOrMissingRefused() throws Exception {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("Ed25519");
    KeyPair signer = gen.generateKeyPair();
    KeyPair forger = gen.generateKeyPair();
    CheckpointCutter.Cut cut = cut("m", 1, 100);
    CheckpointManifest signed = ManifestSignature.sign(cut.manifest(), signer.getPrivate(), signer.getPublic());
    CheckpointManifest forged = ManifestSignature.sign(cut.manifest(), forger.getPrivate(), signer.getPublic()); // claims the signer's key
    CheckpointManifest tampered = CheckpointManifest.newBuilder(signed).setVersion(99).build();

    assertThat(assembled(cut, signed, signer)).isNotNull();
    assertThatThrownBy(() -> assembled(cut, forged, signer)).hasMessageContaining("signature does not verify");
    assertThatThrownBy(() -> assembled(cut, tampered, signer)).isInstanceOf(CheckpointRejectedException.class);
    assertThatThrownBy(() -> assembled(cut, cut.manifest(), signer)).hasMessageContaining("unsigned");
  }

  @Test
  void pemKeys_roundTrip() throws Exception {
    KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    ManifestSignature.writePem(pair.getPrivate(), tmp.resolve("key.pem"));
    ManifestSignature.writePem(pair.getPublic(), tmp.resolve("pub.pem"));
    CheckpointManifest m = ManifestSignature.sign(Fixtures.manifest("m", 1, 1).build(), ManifestSignature.readPrivateKey(tmp.resolve("key.pem")), pair.getPublic());
    assertThat(ManifestSignature.isSignedBy(m, ManifestSignature.readPublicKey(tmp.resolve("pub.pem")))).isTrue();
  }

  private static Checkpoint assembled(CheckpointCutter.Cut cut, CheckpointManifest manifest, KeyPair key) {
    CheckpointAssembler assembler = new CheckpointAssembler(Optional.of(key.getPublic()));
    cut.chunks().forEach(assembler::add);
    return assembler.complete(manifest);
  }
}
