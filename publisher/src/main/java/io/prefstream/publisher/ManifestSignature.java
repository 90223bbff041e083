package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointManifest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.TreeMap;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * Ed25519 signatures of manifests. What is signed is the manifest's Avro binary encoding with the
 * signature field null and the metrics in key order (a decoded map has no order of its own), so
 * every field is covered: each chunk's path, offset, length and hash, each file's size and hash,
 * version, parent, trainer, the first chunk's offset and the metrics the promotion gate reads,
 * and the public key's fingerprint. Keys are PEM files: PKCS#8 private keys, X.509 public keys.
 */
public final class ManifestSignature {
  private static final String ALGORITHM = "Ed25519";

  private ManifestSignature() {}

  public static CheckpointManifest sign(CheckpointManifest manifest, PrivateKey key, PublicKey publicKey) {
    CheckpointManifest unsigned = CheckpointManifest.newBuilder(manifest).setSignature(null).setPublicKeyFingerprint(fingerprint(publicKey)).build();
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initSign(key);
      s.update(canonical(unsigned));
      return CheckpointManifest.newBuilder(unsigned).setSignature(ByteBuffer.wrap(s.sign())).build();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign manifest of " + manifest.getModelName() + " v" + manifest.getVersion() + ": " + e.getMessage(), e);
    }
  }

  /** Whether the manifest carries a valid signature by this key. */
  public static boolean isSignedBy(CheckpointManifest manifest, PublicKey key) {
    if (manifest.getSignature() == null || !fingerprint(key).equals(manifest.getPublicKeyFingerprint())) return false;
    ByteBuffer sig = manifest.getSignature().duplicate();
    byte[] signature = new byte[sig.remaining()];
    sig.get(signature);
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initVerify(key);
      s.update(canonical(CheckpointManifest.newBuilder(manifest).setSignature(null).build()));
      return s.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** Hex SHA-256 of the public key's X.509 encoding. */
  public static String fingerprint(PublicKey key) {
    return Sha256.hex(key.getEncoded());
  }

  public static PrivateKey readPrivateKey(Path pem) {
    try {
      return KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(pemBody(pem)));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(pem + " is not an Ed25519 private key in PKCS#8 PEM: " + e.getMessage(), e);
    }
  }

  public static PublicKey readPublicKey(Path pem) {
    try {
      return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(pemBody(pem)));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(pem + " is not an Ed25519 public key in X.509 PEM: " + e.getMessage(), e);
    }
  }

  /** Writes a key as PEM ("PRIVATE KEY" or "PUBLIC KEY"). */
  public static void writePem(java.security.Key key, Path pem) {
    String type = key instanceof PrivateKey ? "PRIVATE KEY" : "PUBLIC KEY";
    String body = Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).encodeToString(key.getEncoded());
    try {
      Files.writeString(pem, "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + pem, e);
    }
  }

  private static byte[] pemBody(Path pem) {
    try {
      String text = Files.readString(pem).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
      return Base64.getDecoder().decode(text);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read key " + pem, e);
    }
  }

  private static byte[] canonical(CheckpointManifest manifest) {
    manifest = CheckpointManifest.newBuilder(manifest).setMetrics(new TreeMap<>(manifest.getMetrics())).build();
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
      new SpecificDatumWriter<>(CheckpointManifest.class).write(manifest, encoder);
      encoder.flush();
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
