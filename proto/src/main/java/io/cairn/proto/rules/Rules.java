package io.cairn.proto.rules;

import io.cairn.proto.CreateAccount;
import io.cairn.proto.Operation;
import io.cairn.proto.ResultCode;
import io.cairn.proto.Role;
import io.cairn.proto.Transfer;
import io.cairn.proto.signing.Signing;

/**
 * The rule book for ids, amounts and operations, written once and used by the client (before an
 * operation joins a shared request), the node's API (to name the offending field in an
 * INVALID_ARGUMENT) and the ledger (to give the same rule a replicated result code).
 *
 * <p>Every method is pure and deterministic: the ledger calls it on every replica, so it must never
 * depend on a clock, a setting or a locale.
 */
public final class Rules {
  /** The longest account or operation id, in characters. */
  public static final int MAX_ID_LENGTH = 64;

  /** The id rule in words, for error messages. */
  public static final String ID_RULE = "1-64 characters of [A-Za-z0-9._:-]";

  /**
   * One broken rule.
   *
   * @param field the offending field, relative to the operation (for example {@code
   *     "transfer.amount"})
   * @param message what is wrong, for a person
   * @param code the result code the ledger gives an operation that breaks this rule
   */
  public record Violation(String field, String message, ResultCode code) {}

  private Rules() {}

  /** Whether {@code id} is 1-64 characters of [A-Za-z0-9._:-]: account and operation ids alike. */
  public static boolean isValidId(String id) {
    if (id == null || id.isEmpty() || id.length() > MAX_ID_LENGTH) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      if (!isIdChar(id.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether {@code principal} may name a principal (a client certificate's CN): the id rule, 1-64
   * characters of [A-Za-z0-9._:-]. The empty string, which means "no principal", is not one.
   */
  public static boolean isValidPrincipal(String principal) {
    return isValidId(principal);
  }

  /** Whether {@code role} names a role ({@code ADMIN}, {@code ISSUER}, {@code MEMBER}). */
  public static boolean isValidRole(Role role) {
    return role != null && role != Role.ROLE_UNSPECIFIED && role != Role.UNRECOGNIZED;
  }

  private static boolean isIdChar(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '.'
        || c == '_'
        || c == ':'
        || c == '-';
  }

  /**
   * Every rule a single operation must meet before it is sent: its id, its creation time, its kind
   * and its body. Returns the first broken rule, or null.
   */
  public static Violation check(Operation op) {
    if (!isValidId(op.getId())) {
      return new Violation("id", "must be " + ID_RULE, ResultCode.INVALID_OPERATION_ID);
    }
    if (op.getCreatedAtMillis() <= 0) {
      // The ledger has no code of its own for this: such an operation is older than any
      // window, so it is EXPIRED there.
      return new Violation(
          "created_at_millis",
          "required: the client's Unix time in ms, the same on every retry",
          ResultCode.EXPIRED);
    }
    return checkBody(op);
  }

  /**
   * The rules on an operation's kind and body (not its id or time), in the order the ledger applies
   * them. Returns the first broken rule, or null.
   */
  public static Violation checkBody(Operation op) {
    Violation sig = signature(op);
    if (sig != null) {
      return sig;
    }
    switch (op.getKindCase()) {
      case CREATE_ACCOUNT:
        return createAccount(op.getCreateAccount());
      case MINT:
        return firstOf(
            account("mint.account", op.getMint().getAccount()),
            amount("mint.amount", op.getMint().getAmount()));
      case BURN:
        return firstOf(
            account("burn.account", op.getBurn().getAccount()),
            amount("burn.amount", op.getBurn().getAmount()));
      case TRANSFER:
        return transfer(op.getTransfer());
      case GRANT_ROLE:
        return firstOf(
            principal("grant_role.principal", op.getGrantRole().getPrincipal()),
            role("grant_role.role", op.getGrantRole().getRole()));
      case REVOKE_ROLE:
        return firstOf(
            principal("revoke_role.principal", op.getRevokeRole().getPrincipal()),
            role("revoke_role.role", op.getRevokeRole().getRole()));
      default:
        return new Violation(
            "kind",
            "no operation kind set (create_account, mint, burn, transfer, grant_role or"
                + " revoke_role)",
            ResultCode.INVALID_OPERATION);
    }
  }

  private static Violation createAccount(CreateAccount c) {
    Violation v = firstOf(account("create_account.account", c.getAccount()), signingKey(c));
    if (v != null || c.getOwner().isEmpty()) {
      return v;
    }
    // An owner is a principal; the account-id code, because the owner is part of the account.
    return isValidPrincipal(c.getOwner())
        ? null
        : new Violation(
            "create_account.owner",
            "'" + abbreviate(c.getOwner()) + "' must be empty (the submitter) or " + ID_RULE,
            ResultCode.INVALID_ACCOUNT_ID);
  }

  /** The longest public key accepted; an Ed25519 SubjectPublicKeyInfo is 44 bytes. */
  public static final int MAX_PUBLIC_KEY_BYTES = 64;

  /** An Ed25519 signature's length. */
  public static final int SIGNATURE_BYTES = 64;

  private static Violation signingKey(CreateAccount c) {
    if (c.getPublicKey().isEmpty()) {
      return c.getRequireSignatures()
          ? new Violation(
              "create_account.public_key",
              "require_signatures needs a public key",
              ResultCode.INVALID_PUBLIC_KEY)
          : null;
    }
    return c.getPublicKey().size() <= MAX_PUBLIC_KEY_BYTES
            && Signing.isPublicKey(c.getPublicKey().toByteArray())
        ? null
        : new Violation(
            "create_account.public_key",
            "not an Ed25519 public key (X.509 SubjectPublicKeyInfo DER)",
            ResultCode.INVALID_PUBLIC_KEY);
  }

  /** A signature is empty or 64 bytes; whether it verifies is the leader's check, not a rule. */
  private static Violation signature(Operation op) {
    int n = op.getSignature().size();
    return n == 0 || n == SIGNATURE_BYTES
        ? null
        : new Violation(
            "signature",
            "an Ed25519 signature is " + SIGNATURE_BYTES + " bytes, not " + n,
            ResultCode.INVALID_PUBLIC_KEY);
  }

  private static Violation principal(String field, String principal) {
    return isValidPrincipal(principal)
        ? null
        : new Violation(
            field, "'" + abbreviate(principal) + "' must be " + ID_RULE, ResultCode.INVALID_ROLE);
  }

  private static Violation role(String field, Role role) {
    return isValidRole(role)
        ? null
        : new Violation(field, "must be ADMIN, ISSUER or MEMBER", ResultCode.INVALID_ROLE);
  }

  private static Violation transfer(Transfer t) {
    Violation v = firstOf(account("transfer.from", t.getFrom()), account("transfer.to", t.getTo()));
    if (v != null) {
      return v;
    }
    if (t.getFrom().equals(t.getTo())) {
      return new Violation(
          "transfer.to", "must differ from transfer.from", ResultCode.SAME_ACCOUNT);
    }
    return amount("transfer.amount", t.getAmount());
  }

  /** The rule on an account id given to a read or an operation; null when it holds. */
  public static Violation account(String field, String id) {
    return isValidId(id)
        ? null
        : new Violation(
            field, "'" + abbreviate(id) + "' must be " + ID_RULE, ResultCode.INVALID_ACCOUNT_ID);
  }

  private static Violation amount(String field, long amount) {
    return amount == 0
        ? new Violation(field, "must be greater than 0", ResultCode.INVALID_AMOUNT)
        : null;
  }

  private static Violation firstOf(Violation a, Violation b) {
    return a != null ? a : b;
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }
}
