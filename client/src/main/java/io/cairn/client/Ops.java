package io.cairn.client;

import io.cairn.proto.Burn;
import io.cairn.proto.CreateAccount;
import io.cairn.proto.GrantRole;
import io.cairn.proto.Mint;
import io.cairn.proto.Operation;
import io.cairn.proto.RevokeRole;
import io.cairn.proto.Role;
import io.cairn.proto.Transfer;
import io.cairn.proto.signing.Signing;
import java.nio.ByteBuffer;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Builders for ledger operations. Each operation gets the id given (use {@link #newId()} for a
 * fresh one) and the current wall clock as its creation time; keep the returned {@link Operation}
 * and resend it as is to retry safely: the same id and body is applied at most once (a retry of an
 * applied id returns its first result however old it is), and an operation never applied whose
 * creation time is older than the dedupe window is refused ({@code EXPIRED}) rather than taken as
 * new. The ledger refuses a creation time further in the future than its allowed clock skew ({@code
 * TIMESTAMP_IN_FUTURE}), so the client's clock must be roughly right.
 *
 * <p>The builders do not validate: {@link CairnClient#singleAsync} checks an operation against the
 * rule book before sending it (INVALID_ARGUMENT), and the node checks every request.
 *
 * <p>The ledger judges every operation against the roles of the principal that submits it (the
 * client certificate's CN) and the owner of the account it debits; a refusal is the result code
 * {@code PERMISSION_DENIED}, recorded under the id like any result (retry under a new id once
 * allowed). Each builder says who may use it.
 *
 * <p>Ids are 128 bits in URL-safe Base64 (22 characters of [A-Za-z0-9_-]): 64 bits drawn once per
 * JVM from {@link SecureRandom}, then a 64-bit counter. Unique within the process by construction
 * and across processes with overwhelming probability, without a system call or a global lock per id
 * (SecureRandom per id cost more CPU than the rest of a transfer's client path under load).
 */
public final class Ops {
  private static final long PREFIX = new SecureRandom().nextLong();
  private static final AtomicLong COUNTER = new AtomicLong(new SecureRandom().nextLong());

  private Ops() {}

  /** A new operation id, unique across this process's lifetime. */
  public static String newId() {
    byte[] b = ByteBuffer.allocate(16).putLong(PREFIX).putLong(COUNTER.getAndIncrement()).array();
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private static Operation.Builder base(String id) {
    return Operation.newBuilder().setId(id).setCreatedAtMillis(System.currentTimeMillis());
  }

  /**
   * Creates {@code account} with balance 0, owned by the principal that submits it; refused with
   * {@code ACCOUNT_EXISTS} if it exists. Needs the ADMIN or ISSUER role ({@code
   * PERMISSION_DENIED}).
   */
  public static Operation createAccount(String id, String account) {
    return createAccount(id, account, "");
  }

  /**
   * Creates {@code account} with balance 0, owned by {@code owner} (a principal: 1-64 characters of
   * [A-Za-z0-9._:-], or "" for the submitting principal). The owner, with any role, may transfer
   * from the account; it is set once and part of the account's Merkle leaf.
   */
  public static Operation createAccount(String id, String account, String owner) {
    return base(id)
        .setCreateAccount(CreateAccount.newBuilder().setAccount(account).setOwner(owner))
        .build();
  }

  /**
   * Creates {@code account} owned by {@code owner} (as {@link #createAccount(String, String,
   * String)}) with the Ed25519 public key {@code key}; when {@code requireSignatures}, every debit
   * from it (transfer out, burn) must be {@link #signed} by the matching private key ({@code
   * SIGNATURE_REQUIRED} otherwise). Key and flag never change and are part of the Merkle leaf.
   *
   * @throws IllegalArgumentException when {@code key} is not an Ed25519 key
   */
  public static Operation createAccount(
      String id, String account, String owner, PublicKey key, boolean requireSignatures) {
    if (!Signing.ALGORITHM.equals(key.getAlgorithm()) && !"EdDSA".equals(key.getAlgorithm())) {
      throw new IllegalArgumentException("not an Ed25519 key: " + key.getAlgorithm());
    }
    return base(id)
        .setCreateAccount(
            CreateAccount.newBuilder()
                .setAccount(account)
                .setOwner(owner)
                .setPublicKey(com.google.protobuf.ByteString.copyFrom(key.getEncoded()))
                .setRequireSignatures(requireSignatures))
        .build();
  }

  /**
   * {@code op} (a transfer or a burn) with the Ed25519 signature of {@code key} over its canonical
   * bytes ({@link Signing#canonicalBytes}). The id, time, accounts and amount are signed, so sign
   * last, after every field is set; the leader refuses a signature that does not verify with
   * INVALID_ARGUMENT, before anything is appended.
   *
   * @throws IllegalArgumentException when {@code op} is not a debit or {@code key} cannot sign
   */
  public static Operation signed(Operation op, PrivateKey key) {
    return op.toBuilder()
        .setSignature(com.google.protobuf.ByteString.copyFrom(Signing.sign(key, op)))
        .build();
  }

  /**
   * Gives {@code principal} (a certificate's CN, 1-64 characters of [A-Za-z0-9._:-]) the {@code
   * role}; ADMIN only ({@code PERMISSION_DENIED} otherwise). Granting a role already held is {@code
   * OK} and changes nothing, so sending it again under a new id is safe.
   */
  public static Operation grantRole(String id, String principal, Role role) {
    return base(id)
        .setGrantRole(GrantRole.newBuilder().setPrincipal(principal).setRole(role))
        .build();
  }

  /**
   * Takes {@code role} from {@code principal}, effective from the next operation applied; ADMIN
   * only. Revoking a role not held is {@code OK} and changes nothing.
   */
  public static Operation revokeRole(String id, String principal, Role role) {
    return base(id)
        .setRevokeRole(RevokeRole.newBuilder().setPrincipal(principal).setRole(role))
        .build();
  }

  /**
   * Adds {@code amount} (unsigned 64-bit, above 0) new tokens to {@code account}; ADMIN or ISSUER.
   */
  public static Operation mint(String id, String account, long amount) {
    return base(id).setMint(Mint.newBuilder().setAccount(account).setAmount(amount)).build();
  }

  /**
   * Removes {@code amount} (unsigned 64-bit, above 0) tokens from {@code account}; ADMIN or ISSUER.
   */
  public static Operation burn(String id, String account, long amount) {
    return base(id).setBurn(Burn.newBuilder().setAccount(account).setAmount(amount)).build();
  }

  /**
   * Moves {@code amount} (unsigned 64-bit, above 0) from {@code from} to another account. Allowed
   * to an ADMIN, or to any role holder that owns {@code from} ({@code PERMISSION_DENIED}).
   */
  public static Operation transfer(String id, String from, String to, long amount) {
    return transfer(id, System.currentTimeMillis(), from, to, amount);
  }

  /**
   * A transfer with the creation time given: to rebuild an operation for a retry, pass the id and
   * {@code createdAtMillis} of the first attempt (kept with the id). A retry of an applied id
   * returns its first result however old it is (the node's history keeps it); an id that was never
   * applied and is older than the ledger's dedupe window is refused ({@code EXPIRED}), never taken
   * as new.
   */
  public static Operation transfer(
      String id, long createdAtMillis, String from, String to, long amount) {
    return Operation.newBuilder()
        .setId(id)
        .setCreatedAtMillis(createdAtMillis)
        .setTransfer(Transfer.newBuilder().setFrom(from).setTo(to).setAmount(amount))
        .build();
  }

  /**
   * A transfer applied only if the source account is at {@code expectedFromVersion}
   * (compare-and-set); otherwise refused with {@code VERSION_MISMATCH}.
   */
  public static Operation transfer(
      String id, String from, String to, long amount, long expectedFromVersion) {
    return base(id)
        .setTransfer(
            Transfer.newBuilder()
                .setFrom(from)
                .setTo(to)
                .setAmount(amount)
                .setExpectedFromVersion(expectedFromVersion))
        .build();
  }
}
