package io.prefstream.publisher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.NamedParameterSpec;
import java.util.Arrays;

/**
 * Ed25519 key pairs for signing checkpoints: made new, written as PEM files, or read back from the
 * private key alone (PKCS#8 PEM, as {@code openssl genpkey -algorithm ed25519} writes it), since
 * the public key follows from it.
 */
public final class SigningKeys {
  public static final String PRIVATE_FILE = "signing.pem";
  public static final String PUBLIC_FILE = "signing.pub.pem";
  private static final String ALGORITHM = "Ed25519";

  private SigningKeys() {}

  public static KeyPair generate() {
    try {
      return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JVM cannot make Ed25519 keys: " + e.getMessage(), e);
    }
  }

  /**
   * Writes {@value #PRIVATE_FILE} (owner-readable only, where the file system has POSIX
   * permissions) into {@code privateDir} and {@value #PUBLIC_FILE} into {@code publicDir}, which
   * may be the same folder: apart, a deployment can hand the public key out without the private one.
   *
   * @throws IllegalStateException when either file exists already: keys are never overwritten
   */
  public static void write(KeyPair keys, Path privateDir, Path publicDir) {
    Path privateFile = privateDir.resolve(PRIVATE_FILE);
    Path publicFile = publicDir.resolve(PUBLIC_FILE);
    if (Files.exists(privateFile) || Files.exists(publicFile)) {
      throw new IllegalStateException(privateFile + " or " + publicFile + " exists already; keys are never overwritten: choose another folder");
    }
    try {
      Files.createDirectories(privateDir);
      Files.createDirectories(publicDir);
      ManifestSignature.writePem(keys.getPrivate(), privateFile);
      if (Files.getFileStore(privateFile).supportsFileAttributeView("posix")) {
        Files.setPosixFilePermissions(privateFile, PosixFilePermissions.fromString("rw-------"));
      }
      ManifestSignature.writePem(keys.getPublic(), publicFile);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write keys to " + privateDir + " and " + publicDir, e);
    }
  }

  /** The key pair of a PKCS#8 PEM private key. */
  public static KeyPair read(Path privatePem) {
    PrivateKey key = ManifestSignature.readPrivateKey(privatePem);
    return new KeyPair(publicKeyOf(key, privatePem), key);
  }

  /**
   * Ed25519's public key is a function of the 32-byte private key, and Java computes it only while
   * generating a pair: a generator whose randomness is those 32 bytes makes exactly this key's pair.
   */
  private static PublicKey publicKeyOf(PrivateKey key, Path source) {
    byte[] seed = ((EdECPrivateKey) key).getBytes().orElseThrow(() -> new IllegalArgumentException(source + " holds no Ed25519 key bytes"));
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance(ALGORITHM);
      generator.initialize(NamedParameterSpec.ED25519, new FixedBytes(seed));
      KeyPair pair = generator.generateKeyPair();
      byte[] made = ((EdECPrivateKey) pair.getPrivate()).getBytes().orElseThrow();
      if (!Arrays.equals(made, seed)) throw new IllegalStateException("this JVM's Ed25519 generator does not take its key from its randomness");
      return pair.getPublic();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot derive the public key of " + source + ": " + e.getMessage(), e);
    }
  }

  /** Randomness that is a given private key: see {@link #publicKeyOf}. */
  private static final class FixedBytes extends SecureRandom {
    private final byte[] bytes;

    FixedBytes(byte[] bytes) {
      this.bytes = bytes.clone();
    }

    @Override
    public void nextBytes(byte[] out) {
      if (out.length != bytes.length) throw new IllegalStateException("expected a request for " + bytes.length + " bytes, got " + out.length);
      System.arraycopy(bytes, 0, out, 0, out.length);
    }
  }
}
