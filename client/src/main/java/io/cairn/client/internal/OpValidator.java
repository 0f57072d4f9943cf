package io.cairn.client.internal;

import io.cairn.proto.Operation;

/**
 * The node's request rules, checked before an operation joins a coalesced request: one caller's
 * malformed operation must fail alone, not take the whole shared request down with it.
 */
public final class OpValidator {
  private OpValidator() {}

  /** Null when acceptable, else what is wrong. */
  public static String check(Operation op) {
    if (!validId(op.getId())) {
      return "operation id must be 1-64 characters of [A-Za-z0-9._:-]";
    }
    if (op.getCreatedAtMillis() <= 0) {
      return "created_at_millis is required";
    }
    switch (op.getKindCase()) {
      case CREATE_ACCOUNT:
        return account(op.getCreateAccount().getAccount());
      case MINT:
        return first(account(op.getMint().getAccount()), amount(op.getMint().getAmount()));
      case BURN:
        return first(account(op.getBurn().getAccount()), amount(op.getBurn().getAmount()));
      case TRANSFER:
        var t = op.getTransfer();
        String e = first(account(t.getFrom()), first(account(t.getTo()), amount(t.getAmount())));
        if (e == null && t.getFrom().equals(t.getTo())) {
          return "transfer.to must differ from transfer.from";
        }
        return e;
      default:
        return "no operation kind set";
    }
  }

  public static boolean validId(String id) {
    if (id == null || id.isEmpty() || id.length() > 64) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '.' || c == '_' || c == ':' || c == '-')) {
        return false;
      }
    }
    return true;
  }

  private static String account(String id) {
    return validId(id) ? null : "account id '" + id + "' must be 1-64 characters of [A-Za-z0-9._:-]";
  }

  private static String amount(long amount) {
    return amount == 0 ? "amount must be greater than 0" : null;
  }

  private static String first(String a, String b) {
    return a != null ? a : b;
  }
}
