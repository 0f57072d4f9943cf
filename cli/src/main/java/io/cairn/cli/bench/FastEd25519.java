package io.cairn.cli.bench;

import com.google.protobuf.ByteString;
import io.cairn.proto.Operation;
import io.cairn.proto.signing.Signing;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * Ed25519 through Bouncy Castle's RFC 8032 code, for the bench tools: the bench signs every
 * transfer it sends, and the JDK's Ed25519 is slow enough here that the client, not the cluster,
 * would be what a signed-transfer benchmark measures. The signatures are standard Ed25519 over
 * {@link Signing#canonicalBytes}, so the leader's JDK check verifies them.
 */
final class FastEd25519 {
  /** X.509 SubjectPublicKeyInfo header of an Ed25519 key; the 32 key bytes follow. */
  private static final byte[] SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

  private final byte[] secret = new byte[Ed25519.SECRET_KEY_SIZE];
  private final byte[] publicKey = new byte[Ed25519.PUBLIC_KEY_SIZE];

  FastEd25519() {
    Ed25519.generatePrivateKey(new SecureRandom(), secret);
    Ed25519.generatePublicKey(secret, 0, publicKey, 0);
  }

  /** The public key as the ledger takes it (X.509 SubjectPublicKeyInfo DER). */
  byte[] publicKeyDer() {
    byte[] der = new byte[SPKI_PREFIX.length + publicKey.length];
    System.arraycopy(SPKI_PREFIX, 0, der, 0, SPKI_PREFIX.length);
    System.arraycopy(publicKey, 0, der, SPKI_PREFIX.length, publicKey.length);
    return der;
  }

  /** {@code op} signed by this key. */
  Operation sign(Operation op) {
    byte[] m = Signing.canonicalBytes(op);
    byte[] sig = new byte[Ed25519.SIGNATURE_SIZE];
    Ed25519.sign(secret, 0, m, 0, m.length, sig, 0);
    return op.toBuilder().setSignature(ByteString.copyFrom(sig)).build();
  }

  /** Whether {@code op}'s signature verifies against this key, with Bouncy Castle. */
  boolean verify(Operation op) {
    byte[] m = Signing.canonicalBytes(op);
    return Ed25519.verify(op.getSignature().toByteArray(), 0, publicKey, 0, m, 0, m.length);
  }
}
