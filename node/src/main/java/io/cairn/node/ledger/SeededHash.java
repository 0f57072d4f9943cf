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

  /** SipHash-c-d of the id's characters as bytes; {@code (2, 4)} is the paper's reference. */
  static long sip(String id, long k0, long k1, int c, int d) {
    long[] v = {
      k0 ^ 0x736f6d6570736575L,
      k1 ^ 0x646f72616e646f6dL,
      k0 ^ 0x6c7967656e657261L,
      k1 ^ 0x7465646279746573L
    };
    int n = id.length();
    int end = n & ~7;
    for (int i = 0; i <= end; i += 8) {
      long m = i < end ? word(id, i, 8) : ((long) n << 56) | word(id, end, n - end);
      v[3] ^= m;
      for (int r = 0; r < c; r++) {
        round(v);
      }
      v[0] ^= m;
    }
    v[2] ^= 0xff;
    for (int r = 0; r < d; r++) {
      round(v);
    }
    return v[0] ^ v[1] ^ v[2] ^ v[3];
  }

  /** Little-endian: characters {@code from .. from + count - 1} as bytes of one word. */
  private static long word(String id, int from, int count) {
    long m = 0;
    for (int j = 0; j < count; j++) {
      m |= (id.charAt(from + j) & 0xffL) << (8 * j);
    }
    return m;
  }

  private static void round(long[] v) {
    v[0] += v[1];
    v[1] = Long.rotateLeft(v[1], 13) ^ v[0];
    v[0] = Long.rotateLeft(v[0], 32);
    v[2] += v[3];
    v[3] = Long.rotateLeft(v[3], 16) ^ v[2];
    v[0] += v[3];
    v[3] = Long.rotateLeft(v[3], 21) ^ v[0];
    v[2] += v[1];
    v[1] = Long.rotateLeft(v[1], 17) ^ v[2];
    v[2] = Long.rotateLeft(v[2], 32);
  }
}
