package io.cairn.node.ledger;

import java.security.SecureRandom;

/**
 * SipHash-1-3 of an ASCII id under a key drawn once per process: ids crafted to collide (under
 * {@link String#hashCode}, or under any fixed function) do not collide here, so the dedupe index
 * stays O(1) per operation against a hostile client. The key is never written anywhere and the
 * index's layout never reaches a result, so replicas with different keys stay alike.
 *
 * <p>Written out rather than taken from a library because {@code ledger/} depends only on the JDK
 * and protobuf; the function is Aumasson and Bernstein's SipHash with one compression and three
 * finalisation rounds, as Rust's standard hash maps use it.
 */
final class SeededHash {
  private static final long K0;
  private static final long K1;

  static {
    SecureRandom random = new SecureRandom();
    K0 = random.nextLong();
    K1 = random.nextLong();
  }

  private SeededHash() {}

  /** The hash of {@code id}, whose characters are all below 128 (valid ledger ids are ASCII). */
  static int of(String id) {
    return of(id, K0, K1);
  }

  /** The hash of {@code id} under the key ({@code k0}, {@code k1}). */
  static int of(String id, long k0, long k1) {
    long h = sip(id, k0, k1, 1, 3);
    return (int) (h ^ (h >>> 32));
  }

  /**
   * SipHash-c-d of the id's characters as bytes ({@code c >= 1}); {@code (2, 4)} is the paper's
   * reference. One loop runs every round, so the round is written once and the state stays in
   * locals (this runs for every id the ledger looks up).
   */
  static long sip(String id, long k0, long k1, int c, int d) {
    long v0 = k0 ^ 0x736f6d6570736575L;
    long v1 = k1 ^ 0x646f72616e646f6dL;
    long v2 = k0 ^ 0x6c7967656e657261L;
    long v3 = k1 ^ 0x7465646279746573L;
    int n = id.length();
    int words = n / 8 + 1; // the last word holds the tail and the length
    int compressions = words * c;
    int w = 0;
    long m = word(id, 0);
    v3 ^= m;
    for (int r = 0; r < compressions + d; r++) {
      v0 += v1;
      v1 = Long.rotateLeft(v1, 13) ^ v0;
      v0 = Long.rotateLeft(v0, 32);
      v2 += v3;
      v3 = Long.rotateLeft(v3, 16) ^ v2;
      v0 += v3;
      v3 = Long.rotateLeft(v3, 21) ^ v0;
      v2 += v1;
      v1 = Long.rotateLeft(v1, 17) ^ v2;
      v2 = Long.rotateLeft(v2, 32);
      if (r < compressions && (r + 1) % c == 0) { // word w has had its c rounds
        v0 ^= m;
        if (++w < words) {
          m = word(id, w);
          v3 ^= m;
        } else {
          v2 ^= 0xff; // finalisation: the d rounds left
        }
      }
    }
    return v0 ^ v1 ^ v2 ^ v3;
  }

  /** Message word {@code w}, little-endian; the last one is the tail with the length on top. */
  private static long word(String id, int w) {
    int n = id.length();
    int from = 8 * w;
    int count = Math.min(8, n - from);
    long m = count < 8 ? (long) n << 56 : 0;
    for (int j = 0; j < count; j++) {
      m |= (id.charAt(from + j) & 0xffL) << (8 * j);
    }
    return m;
  }
}
