package io.prefstream.publisher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.schemas.CheckpointChunk;
import io.prefstream.schemas.CheckpointFile;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.ChunkRef;
import io.prefstream.schemas.serde.SerdeConfig;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointAssemblerTest {
  @TempDir Path tmp;

  private Fixtures.Cut cut(String model, long version, int bytes) throws Exception {
    return Fixtures.cut(Fixtures.folder(tmp.resolve(model + "-" + version), bytes, version), 1000, Fixtures.manifest(model, version, 0.9));
  }

  private CheckpointAssembler assembler(Optional<KeyPair> signer) {
    return new CheckpointAssembler(signer.map(KeyPair::getPublic), tmp.resolve("work-" + System.nanoTime()), PendingChunks.Limits.DEFAULT);
  }

  private static void add(CheckpointAssembler assembler, List<CheckpointChunk> chunks) {
    chunks.forEach(c -> assembler.add(c, -1));
  }

  @Test
  void cutThenAssembled_givesTheSameFiles_oneFileAtATime() throws Exception {
    Fixtures.Cut cut = cut("m", 1, 4500);
    try (CheckpointAssembler assembler = assembler(Optional.empty())) {
      add(assembler, cut.chunks());
      try (Checkpoint checkpoint = assembler.complete(cut.manifest())) {
        assertThat(Fixtures.files(checkpoint.serving())).containsExactlyInAnyOrderEntriesOf(Fixtures.files(tmp.resolve("m-1")));
      }
    }
    assertThat(cut.chunks()).hasSize(5 + 1 + 1); // 4500 bytes in 1000-byte chunks, two small files
    assertThat(cut.manifest().getChunks()).extracting(ChunkRef::getOffset).contains(0L, 1000L, 4000L);
  }

  @Test
  void interleavedVersions_assembleEachCorrectly() throws Exception {
    Fixtures.Cut a = cut("m", 1, 3000);
    Fixtures.Cut b = cut("m", 2, 3000);
    try (CheckpointAssembler assembler = assembler(Optional.empty())) {
      for (int i = 0; i < Math.max(a.chunks().size(), b.chunks().size()); i++) {
        if (i < b.chunks().size()) assembler.add(b.chunks().get(i), -1);
        if (i < a.chunks().size()) assembler.add(a.chunks().get(i), -1);
      }
      assertThat(assembler.complete(b.manifest()).serving().resolve("config.json")).content().contains("\"seed\":2");
      assertThat(assembler.complete(a.manifest()).serving().resolve("config.json")).content().contains("\"seed\":1");
    }
  }

  @Test
  void flippedByte_isRefused_asTheChunkArrivesOrWhenItsManifestCannotFindIt() throws Exception {
    Fixtures.Cut cut = cut("m", 1, 3000);
    try (CheckpointAssembler assembler = assembler(Optional.empty())) {
      CheckpointChunk original = cut.chunks().get(2);
      byte[] data = original.getData().array().clone();
      data[10] ^= 1;
      CheckpointChunk flipped = CheckpointChunk.newBuilder(original).setData(ByteBuffer.wrap(data)).build();
      assertThatThrownBy(() -> assembler.add(flipped, -1)).isInstanceOf(CheckpointRejectedException.class).hasMessageContaining("chunk 2");
      CheckpointChunk rehashed = CheckpointChunk.newBuilder(flipped).setSha256(Sha256.hex(data)).build();
      add(assembler, cut.chunks().stream().map(c -> c.getIndex() == 2 ? rehashed : c).toList());
      assertThatThrownBy(() -> assembler.complete(cut.manifest())).isInstanceOf(CheckpointRejectedException.class).hasMessageContaining("chunk 2 of");
    }
  }

  @Test
  void missingChunk_isRefused() throws Exception {
    Fixtures.Cut cut = cut("m", 1, 3000);
    try (CheckpointAssembler assembler = assembler(Optional.empty())) {
      add(assembler, cut.chunks().stream().filter(c -> c.getIndex() != 1).toList());
      assertThatThrownBy(() -> assembler.complete(cut.manifest())).isInstanceOf(CheckpointRejectedException.class).hasMessageContaining("chunk 1 of");
    }
  }

  @Test
  void chunkRecordsSayingAnotherPlace_changeNothing_andAnEscapingFileNameIsRefused() throws Exception {
    Fixtures.Cut cut = cut("m", 1, 10);
    try (CheckpointAssembler assembler = assembler(Optional.empty())) {
      add(assembler, cut.chunks().stream().map(c -> CheckpointChunk.newBuilder(c).setPath("../evil.sh").setOffset(7).build()).toList());
      try (Checkpoint checkpoint = assembler.complete(cut.manifest())) { // the signed chunk list decides where bytes go
        assertThat(Fixtures.files(checkpoint.serving())).containsExactlyInAnyOrderEntriesOf(Fixtures.files(tmp.resolve("m-1")));
      }
      add(assembler, cut.chunks());
      CheckpointManifest escaping = CheckpointManifest.newBuilder(cut.manifest())
          .setFiles(cut.manifest().getFiles().stream().map(f -> f.getPath().equals("config.json") ? new CheckpointFile("../config.json", f.getSize(), f.getSha256()) : f).toList())
          .setChunks(cut.manifest().getChunks().stream().map(c -> c.getPath().equals("config.json") ? ChunkRef.newBuilder(c).setPath("../config.json").build() : c).toList())
          .build();
      assertThatThrownBy(() -> assembler.complete(escaping)).isInstanceOf(CheckpointRejectedException.class).hasMessageContaining("escape");
    }
    assertThat(tmp.resolve("evil.sh")).doesNotExist();
  }

  @Test
  void signature_coversEveryChunksPlace_theFiles_versionParentAndMetrics() throws Exception {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("Ed25519");
    KeyPair signer = gen.generateKeyPair();
    KeyPair forger = gen.generateKeyPair();
    Fixtures.Cut cut = cut("m", 1, 2500);
    CheckpointManifest signed = ManifestSignature.sign(cut.manifest(), signer.getPrivate(), signer.getPublic());
    List<ChunkRef> swapped = new java.util.ArrayList<>(signed.getChunks());
    swapped.set(0, ChunkRef.newBuilder(swapped.get(0)).setPath("tokenizer/tokenizer.json").build());
    Map<String, Double> better = new LinkedHashMap<>(signed.getMetrics());
    better.put(RolloutAgent.ACCURACY_METRIC, 0.99);

    assertThat(assembled(cut, signed, signer)).isNotNull();
    assertThatThrownBy(() -> assembled(cut, ManifestSignature.sign(cut.manifest(), forger.getPrivate(), signer.getPublic()), signer))
        .hasMessageContaining("signature does not verify"); // claims the signer's key
    assertThatThrownBy(() -> assembled(cut, cut.manifest(), signer)).hasMessageContaining("unsigned");
    for (CheckpointManifest tampered : List.of(
        CheckpointManifest.newBuilder(signed).setVersion(2).build(),
        CheckpointManifest.newBuilder(signed).setParentVersion(7L).build(),
        CheckpointManifest.newBuilder(signed).setMetrics(better).build(),
        CheckpointManifest.newBuilder(signed).setChunks(swapped).build(),
        CheckpointManifest.newBuilder(signed).setFirstChunkOffset(3L).build(),
        CheckpointManifest.newBuilder(signed).setFiles(signed.getFiles().subList(1, signed.getFiles().size())).build())) {
      assertThatThrownBy(() -> assembled(cut, tampered, signer)).hasMessageContaining("signature does not verify");
    }
  }

  @Test
  void signature_survivesTheTopicsEncoding_whateverOrderTheMetricsDecodeIn() throws Exception {
    KeyPair signer = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Map<String, Double> metrics = new LinkedHashMap<>();
    for (int i = 0; i < 40; i++) metrics.put("metric/" + (char) ('z' - i % 26) + i, (double) i);
    CheckpointManifest signed = ManifestSignature.sign(Fixtures.manifest("m", 1, 0.9).setMetrics(metrics).build(), signer.getPrivate(), signer.getPublic());
    Map<String, Object> serde = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://assembler-test");
    byte[] bytes = ModelTopic.serializer(serde).serialize("t", signed);
    CheckpointManifest decoded = (CheckpointManifest) ModelTopic.deserializer(serde).deserialize("t", bytes);
    assertThat(ManifestSignature.isSignedBy(decoded, signer.getPublic())).isTrue();
  }

  @Test
  void unsignedManifestForTheVersionInFlight_leavesItsChunks_forTheGenuineOne() throws Exception {
    KeyPair signer = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Fixtures.Cut cut = cut("m", 1, 3000);
    try (CheckpointAssembler assembler = assembler(Optional.of(signer))) {
      add(assembler, cut.chunks());
      assertThatThrownBy(() -> assembler.complete(cut.manifest())).hasMessageContaining("unsigned");
      // a forged chunk of the same version and index waits beside the genuine one, and is not picked
      byte[] evil = "evil".getBytes();
      assembler.add(CheckpointChunk.newBuilder(cut.chunks().get(0)).setData(ByteBuffer.wrap(evil)).setSha256(Sha256.hex(evil)).build(), -1);
      try (Checkpoint checkpoint = assembler.complete(ManifestSignature.sign(cut.manifest(), signer.getPrivate(), signer.getPublic()))) {
        assertThat(Fixtures.files(checkpoint.serving())).containsExactlyInAnyOrderEntriesOf(Fixtures.files(tmp.resolve("m-1")));
      }
    }
  }

  @Test
  void pemKeys_roundTrip() throws Exception {
    KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    ManifestSignature.writePem(pair.getPrivate(), tmp.resolve("key.pem"));
    ManifestSignature.writePem(pair.getPublic(), tmp.resolve("pub.pem"));
    CheckpointManifest m = ManifestSignature.sign(Fixtures.manifest("m", 1, 1).build(), ManifestSignature.readPrivateKey(tmp.resolve("key.pem")), pair.getPublic());
    assertThat(ManifestSignature.isSignedBy(m, ManifestSignature.readPublicKey(tmp.resolve("pub.pem")))).isTrue();
  }

  private Checkpoint assembled(Fixtures.Cut cut, CheckpointManifest manifest, KeyPair key) {
    try (CheckpointAssembler assembler = assembler(Optional.of(key))) {
      add(assembler, cut.chunks());
      return assembler.complete(manifest);
    }
  }
}
