package io.prefstream.publisher;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Hex SHA-256, as the manifest records it. */
final class Sha256 {
  private Sha256() {}

  static String hex(byte[] data) {
    return format(digest().digest(data));
  }

  static String hex(MessageDigest finished) {
    return format(finished.digest());
  }

  static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JVM", e);
    }
  }

  private static String format(byte[] digest) {
    return HexFormat.of().formatHex(digest);
  }
}
