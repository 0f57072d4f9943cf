package io.cairn.node.api;

import io.cairn.proto.Operation;
import io.cairn.proto.signing.Signing;
import java.util.Arrays;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * The leader's Ed25519 check, through Bouncy Castle's RFC 8032 code: on this machine it costs about
 * 90 µs where the JDK's takes about 700 µs ({@code cairnctl bench verify}), and the leader pays it
 * for every signed debit. Same standard, same canonical bytes as {@link Signing#verify}, which the
 * client and {@code cairnctl transfer verify} use offline. Replicas never call this, so an edge
 * case on which the two libraries disagreed could only make a leader refuse or accept a request,
 * never make replicas diverge.
 */
final class Ed25519Check {
  /** X.509 SubjectPublicKeyInfo header of an Ed25519 key; the 32 key bytes follow. */
  private static final byte[] SPKI_PREFIX = {
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00
  };

  private Ed25519Check() {}

  /**
   * Whether {@code op}'s signature is {@code publicKeyDer}'s over its canonical bytes; false for
   * anything malformed.
   */
  static boolean verify(byte[] publicKeyDer, Operation op) {
    if (Signing.debitedAccount(op) == null
        || op.getSignature().size() != Ed25519.SIGNATURE_SIZE
        || publicKeyDer.length != SPKI_PREFIX.length + Ed25519.PUBLIC_KEY_SIZE
        || !Arrays.equals(
            publicKeyDer, 0, SPKI_PREFIX.length, SPKI_PREFIX, 0, SPKI_PREFIX.length)) {
      return false;
    }
    byte[] m = Signing.canonicalBytes(op);
    try {
      return Ed25519.verify(
          op.getSignature().toByteArray(), 0, publicKeyDer, SPKI_PREFIX.length, m, 0, m.length);
    } catch (RuntimeException malformed) {
      return false;
    }
  }
}
