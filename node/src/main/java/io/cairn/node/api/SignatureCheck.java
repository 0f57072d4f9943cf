package io.cairn.node.api;

import io.cairn.proto.Operation;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.signing.Signing;
import io.grpc.StatusRuntimeException;

/**
 * The leader's check of signed debits, before a request may join a log entry: every signature a
 * request carries must verify against the debited account's Ed25519 key, as this node has applied
 * it. Replicas never verify (not on the apply thread of every node): they trust the entry, which
 * only a leader that ran this check can append, and only decide, deterministically, that a debit
 * from an account that requires signatures carries one ({@code SIGNATURE_REQUIRED} otherwise).
 *
 * <p>Keys never change once an account is created, so a key the leader has applied is the key the
 * entry will meet at apply. A signed debit from an account this node does not know yet (created in
 * an entry not applied here) is refused: the leader cannot check it, and apply must not be left to
 * trust an unchecked signature.
 */
final class SignatureCheck {
  /** A debited account's key as this node has applied it. */
  record AccountKey(byte[] publicKey, boolean required) {}

  /** Keys of accounts by id, from this node's applied state; null for an unknown account. */
  interface KeySource {
    AccountKey key(String account);
  }

  private final KeySource keys;
  private final boolean skip;

  /**
   * @param skip {@code debug.skip.signature.checks}: verify nothing (benchmarks only, to measure
   *     what checking costs)
   */
  SignatureCheck(KeySource keys, boolean skip) {
    this.keys = keys;
    this.skip = skip;
  }

  /** Whether any operation of {@code request} carries a signature (then it costs a check). */
  static boolean anySigned(SubmitRequest request) {
    for (Operation op : request.getOperationsList()) {
      if (!op.getSignature().isEmpty()) {
        return true;
      }
    }
    return false;
  }

  /** Null when every signature of {@code request} verifies; else the INVALID_ARGUMENT to send. */
  StatusRuntimeException check(SubmitRequest request) {
    for (int i = 0; i < request.getOperationsCount(); i++) {
      Operation op = request.getOperations(i);
      if (op.getSignature().isEmpty()) {
        continue;
      }
      String field = "operations[" + i + "].signature";
      String account = Signing.debitedAccount(op);
      if (account == null) {
        return ApiErrors.invalid(field, "only debits (transfer, burn) are signed");
      }
      AccountKey key = keys.key(account);
      if (key == null) {
        return ApiErrors.invalid(
            field,
            "account '"
                + account
                + "' is not known to the leader yet; a signed debit needs an applied account");
      }
      if (key.publicKey().length == 0) {
        return ApiErrors.invalid(field, "account '" + account + "' has no public key");
      }
      if (!skip && !Ed25519Check.verify(key.publicKey(), op)) {
        return ApiErrors.invalid(
            field, "does not verify against the key of account '" + account + "'");
      }
    }
    return null;
  }
}
