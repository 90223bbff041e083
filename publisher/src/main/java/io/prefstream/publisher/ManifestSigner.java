package io.prefstream.publisher;

import io.prefstream.schemas.CheckpointManifest;
import java.security.PrivateKey;
import java.security.PublicKey;

/** Signs a manifest just before it is published, once everything it covers is filled in. */
@FunctionalInterface
public interface ManifestSigner {
  CheckpointManifest sign(CheckpointManifest complete);

  /** Publishes manifests unsigned (agents holding a public key refuse them). */
  ManifestSigner NONE = manifest -> manifest;

  /** Ed25519 with this key pair; the manifest names the public key's fingerprint. */
  static ManifestSigner ed25519(PrivateKey key, PublicKey publicKey) {
    return manifest -> ManifestSignature.sign(manifest, key, publicKey);
  }
}
