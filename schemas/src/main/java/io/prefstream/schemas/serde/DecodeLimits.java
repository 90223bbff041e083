package io.prefstream.schemas.serde;

/**
 * How much one value may make the deserializer allocate, whatever its bytes claim. Avro's binary
 * encoding puts a length before every string, bytes field and collection block, and Avro's own
 * limits ({@code org.apache.avro.limits.*}) are JVM-wide system properties read once; these are per
 * deserializer, from its configuration, and JSON gets the same ones through Jackson's
 * {@code StreamReadConstraints}.
 *
 * @param maxStringBytes longest string or bytes field (and never longer than the value itself)
 * @param maxCollectionItems most items of one array or map
 * @param maxNestingDepth deepest nesting of JSON objects and arrays
 */
public record DecodeLimits(int maxStringBytes, int maxCollectionItems, int maxNestingDepth) {
  public DecodeLimits {
    if (maxStringBytes < 1 || maxCollectionItems < 1 || maxNestingDepth < 1) {
      throw new IllegalArgumentException("decode limits must be >= 1: " + maxStringBytes + ", " + maxCollectionItems + ", " + maxNestingDepth);
    }
  }
}
