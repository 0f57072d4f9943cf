package io.cairn.proto.signing;

import io.cairn.proto.Burn;
import io.cairn.proto.Operation;
import io.cairn.proto.Transfer;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/**
 * Signed debits: the canonical bytes an account's Ed25519 key signs, and signing and checking them.
 * Written once here, so that the client that signs, the leader that checks before append and {@code
 * cairnctl transfer verify} (offline) agree byte for byte.
 *
 * <p>The canonical bytes of a debit are, in order: the ASCII tag {@code cairn.debit.v1}, a byte for
 * the kind (1 transfer, 2 burn), then each field as a 4-byte big-endian length and its UTF-8 bytes
 * for strings, or 8 big-endian bytes for numbers: the operation id, {@code created_at_millis}, the
 * debited account, the credited account (empty for a burn), the amount, and {@code
 * expected_from_version} (a presence byte, then 8 bytes when present). The id is part of them, so a
 * signature replayed under a new id does not verify; so are the amount and both accounts.
 *
 * <p>Keys travel as X.509 SubjectPublicKeyInfo DER (44 bytes for Ed25519), the JDK's encoding; key
 * files are PEM ({@code PUBLIC KEY}, PKCS#8 {@code PRIVATE KEY}).
 */
public final class Signing {
  /** The only signature algorithm: Ed25519 (the JDK has it built in since 15). */
  public static final String ALGORITHM = "Ed25519";

  private static final byte[] TAG = "cairn.debit.v1".getBytes(StandardCharsets.US_ASCII);

  private Signing() {}

  /** The account {@code op} debits (transfer source, burn account), or null for other kinds. */
  public static String debitedAccount(Operation op) {
    return switch (op.getKindCase()) {
      case TRANSFER -> op.getTransfer().getFrom();
      case BURN -> op.getBurn().getAccount();
      default -> null;
    };
  }

  /**
   * The bytes a signature over {@code op} covers (see the class comment).
   *
   * @throws IllegalArgumentException when {@code op} is not a debit
   */
  public static byte[] canonicalBytes(Operation op) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    out.writeBytes(TAG);
    switch (op.getKindCase()) {
      case TRANSFER -> {
        Transfer t = op.getTransfer();
        out.write(1);
        common(out, op, t.getFrom(), t.getTo(), t.getAmount());
        out.write(t.hasExpectedFromVersion() ? 1 : 0);
        if (t.hasExpectedFromVersion()) {
          out.writeBytes(longBytes(t.getExpectedFromVersion()));
        }
      }
      case BURN -> {
        Burn b = op.getBurn();
        out.write(2);
        common(out, op, b.getAccount(), "", b.getAmount());
        out.write(0);
      }
      default -> throw new IllegalArgumentException("not a debit: " + op.getKindCase());
    }
    return out.toByteArray();
  }

  private static void common(
      ByteArrayOutputStream out, Operation op, String debited, String credited, long amount) {
    string(out, op.getId());
    out.writeBytes(longBytes(op.getCreatedAtMillis()));
    string(out, debited);
    string(out, credited);
    out.writeBytes(longBytes(amount));
  }

  private static void string(ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeBytes(ByteBuffer.allocate(4).putInt(b.length).array());
    out.writeBytes(b);
  }

  private static byte[] longBytes(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  /** A new Ed25519 key pair. */
  public static KeyPair newKeyPair() {
    try {
      return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK has no " + ALGORITHM, e);
    }
  }

  /** The signature of {@code key} over {@code op}'s canonical bytes (64 bytes). */
  public static byte[] sign(PrivateKey key, Operation op) {
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initSign(key);
      s.update(canonicalBytes(op));
      return s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot sign with this key: " + e.getMessage(), e);
    }
  }

  /**
   * Whether {@code op.signature} is the signature of the key {@code publicKeyDer} (X.509
   * SubjectPublicKeyInfo) over {@code op}'s canonical bytes. False for a malformed key or
   * signature, or an operation that is not a debit; never throws for bad input.
   */
  public static boolean verify(byte[] publicKeyDer, Operation op) {
    if (debitedAccount(op) == null || op.getSignature().isEmpty()) {
      return false;
    }
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initVerify(publicKey(publicKeyDer));
      s.update(canonicalBytes(op));
      return s.verify(op.getSignature().toByteArray());
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * An Ed25519 public key from its X.509 SubjectPublicKeyInfo DER.
   *
   * @throws GeneralSecurityException when the bytes are not one
   */
  public static PublicKey publicKey(byte[] der) throws GeneralSecurityException {
    return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(der));
  }

  /** Whether {@code der} is a well-formed Ed25519 public key (for the rule book). */
  public static boolean isPublicKey(byte[] der) {
    try {
      return publicKey(der) != null;
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }

  /** {@code der} as a PEM block of {@code type} ("PUBLIC KEY", "PRIVATE KEY"). */
  public static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  /**
   * The DER inside the first PEM block of {@code type} in {@code text}.
   *
   * @throws IllegalArgumentException when there is none
   */
  public static byte[] fromPem(String type, String text) {
    String begin = "-----BEGIN " + type + "-----";
    String end = "-----END " + type + "-----";
    int b = text.indexOf(begin);
    int e = text.indexOf(end);
    if (b < 0 || e < b) {
      throw new IllegalArgumentException("no PEM block '" + type + "'");
    }
    return Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
  }

  /** An Ed25519 private key from its PKCS#8 DER. */
  public static PrivateKey privateKey(byte[] pkcs8) throws GeneralSecurityException {
    return KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
  }
}
