package io.cairn.cli;

import com.google.protobuf.ByteString;
import io.cairn.proto.Account;
import io.cairn.proto.Operation;
import io.cairn.proto.Stamp;
import io.cairn.proto.StatementLine;
import java.time.Instant;
import java.util.Map;

/** How the commands print the ledger's values: accounts, stamps, roots, operations. */
final class Views {
  private Views() {}

  static Map<String, Object> accountJson(Account a) {
    Map<String, Object> j = Json.object();
    j.put("id", a.getId());
    j.put("balance", Json.u64(a.getBalance()));
    j.put("version", Json.u64(a.getVersion()));
    j.put("owner", a.getOwner());
    if (!a.getPublicKey().isEmpty()) {
      j.put(
          "public_key",
          java.util.Base64.getEncoder().encodeToString(a.getPublicKey().toByteArray()));
      j.put("key_fingerprint", KeyCmds.fingerprint(a.getPublicKey().toByteArray()));
      j.put("require_signatures", a.getRequireSignatures());
    }
    return j;
  }

  static Map<String, Object> stampJson(Stamp s) {
    Map<String, Object> j = Json.object();
    j.put("node_id", s.getNodeId());
    j.put("applied_index", Json.u64(s.getAppliedIndex()));
    j.put("term", Json.u64(s.getTerm()));
    j.put("state_root", Json.hex(s.getStateRoot()));
    return j;
  }

  static String shortRoot(ByteString root) {
    String h = Json.hex(root);
    return h.length() > 12 ? h.substring(0, 12) : h;
  }

  static String stampText(Stamp s) {
    return "served by "
        + s.getNodeId()
        + " at index "
        + Long.toUnsignedString(s.getAppliedIndex())
        + ", root "
        + shortRoot(s.getStateRoot());
  }

  /** An account's owner for a person: the principal, or "none" (only an admin may debit it). */
  static String ownerText(Account a) {
    String owner = a.getOwner().isEmpty() ? "none" : a.getOwner();
    if (a.getPublicKey().isEmpty()) {
      return owner;
    }
    return owner
        + ", key "
        + KeyCmds.fingerprint(a.getPublicKey().toByteArray())
        + (a.getRequireSignatures() ? " (signed debits only)" : "");
  }

  /** " by PRINCIPAL", or nothing when the request came without one. */
  static String byText(String principal) {
    return principal.isEmpty() ? "" : " by " + principal;
  }

  /** One operation in words. No default: a new kind does not compile until it is described. */
  static String describe(Operation op) {
    return switch (op.getKindCase()) {
      case CREATE_ACCOUNT ->
          "create "
              + op.getCreateAccount().getAccount()
              + (op.getCreateAccount().getOwner().isEmpty()
                  ? ""
                  : " (owner " + op.getCreateAccount().getOwner() + ")");
      case MINT ->
          "mint "
              + Long.toUnsignedString(op.getMint().getAmount())
              + " to "
              + op.getMint().getAccount();
      case BURN ->
          "burn "
              + Long.toUnsignedString(op.getBurn().getAmount())
              + " from "
              + op.getBurn().getAccount();
      case TRANSFER ->
          "transfer "
              + Long.toUnsignedString(op.getTransfer().getAmount())
              + " "
              + op.getTransfer().getFrom()
              + " -> "
              + op.getTransfer().getTo();
      case GRANT_ROLE ->
          "grant "
              + roleText(op.getGrantRole().getRole())
              + " to "
              + op.getGrantRole().getPrincipal();
      case REVOKE_ROLE ->
          "revoke "
              + roleText(op.getRevokeRole().getRole())
              + " from "
              + op.getRevokeRole().getPrincipal();
      case KIND_NOT_SET -> "unknown operation";
    };
  }

  private static String roleText(io.cairn.proto.Role r) {
    return r == io.cairn.proto.Role.UNRECOGNIZED ? "an unknown role" : RoleCmds.name(r);
  }

  static Map<String, Object> statementLineJson(StatementLine l) {
    Map<String, Object> j = Json.object();
    j.put("applied_index", Json.u64(l.getAppliedIndex()));
    j.put("ledger_time_millis", l.getLedgerTimeMillis());
    j.put("id", l.getOperation().getId());
    j.put("operation", describe(l.getOperation()));
    j.put("principal", l.getPrincipal());
    j.put("credit", Json.u64(l.getCredit()));
    j.put("debit", Json.u64(l.getDebit()));
    j.put("balance_after", Json.u64(l.getBalanceAfter()));
    j.put("version_after", Json.u64(l.getVersionAfter()));
    return j;
  }

  /** index, time, id, what, +credit or -debit, balance after. */
  static String statementLineText(StatementLine l) {
    String change =
        l.getCredit() != 0
            ? "+" + Long.toUnsignedString(l.getCredit())
            : l.getDebit() != 0 ? "-" + Long.toUnsignedString(l.getDebit()) : "0";
    return String.format(
        "%8s  %s  %-24s %-40s %12s  balance %s",
        Long.toUnsignedString(l.getAppliedIndex()),
        Instant.ofEpochMilli(l.getLedgerTimeMillis()),
        l.getOperation().getId(),
        describe(l.getOperation()),
        change,
        Long.toUnsignedString(l.getBalanceAfter()));
  }

  /** Epoch millis, or an ISO-8601 instant such as 2026-12-01T00:00:00Z. */
  static long parseTime(String t, String option) {
    try {
      return t.chars().allMatch(Character::isDigit)
          ? Long.parseLong(t)
          : Instant.parse(t).toEpochMilli();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          option + " " + t + ": not epoch millis or an ISO-8601 instant (2026-12-01T00:00:00Z)");
    }
  }

  static ByteString parseHex(String hex, String option) {
    if (hex.length() % 2 != 0 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
      throw new IllegalArgumentException(option + " " + hex + ": not a token this command printed");
    }
    byte[] b = new byte[hex.length() / 2];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
    }
    return ByteString.copyFrom(b);
  }
}
