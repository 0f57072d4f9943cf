package io.cairn.node.api;

import io.cairn.node.config.HotSettings;
import io.cairn.node.ledger.Ledger;
import io.cairn.proto.Operation;
import io.cairn.proto.ReadOptions;
import io.cairn.proto.SubmitRequest;
import io.grpc.StatusRuntimeException;

/**
 * Checks requests before anything is replicated and names the offending field. The ledger checks
 * the same rules again deterministically, so this is about clear errors, not safety.
 */
final class RequestValidator {
  private final HotSettings hot;
  private final long maxRequestBytes;

  RequestValidator(HotSettings hot, long maxRequestBytes) {
    this.hot = hot;
    this.maxRequestBytes = maxRequestBytes;
  }

  /** Returns null when the request is acceptable, else the error to send. */
  StatusRuntimeException check(SubmitRequest request) {
    if (request.getSerializedSize() > maxRequestBytes) {
      return ApiErrors.invalid(
          "request",
          "is " + request.getSerializedSize() + " bytes; the limit is " + maxRequestBytes);
    }
    int n = request.getOperationsCount();
    int maxOpsPerRequest = hot.getInt("api.max.ops.per.request");
    if (n == 0) {
      return ApiErrors.invalid("operations", "at least one operation is required");
    }
    if (n > maxOpsPerRequest) {
      return ApiErrors.invalid(
          "operations", n + " operations; the limit per request is " + maxOpsPerRequest);
    }
    for (int i = 0; i < n; i++) {
      StatusRuntimeException e = check("operations[" + i + "]", request.getOperations(i));
      if (e != null) {
        return e;
      }
    }
    return null;
  }

  private static StatusRuntimeException check(String at, Operation op) {
    if (!Ledger.isValidId(op.getId())) {
      return ApiErrors.invalid(at + ".id", "must be 1-64 characters of [A-Za-z0-9._:-]");
    }
    if (op.getCreatedAtMillis() <= 0) {
      return ApiErrors.invalid(
          at + ".created_at_millis", "required: the client's Unix time in ms, same on retries");
    }
    switch (op.getKindCase()) {
      case CREATE_ACCOUNT:
        return account(at + ".create_account.account", op.getCreateAccount().getAccount());
      case MINT:
        return firstOf(
            account(at + ".mint.account", op.getMint().getAccount()),
            amount(at + ".mint.amount", op.getMint().getAmount()));
      case BURN:
        return firstOf(
            account(at + ".burn.account", op.getBurn().getAccount()),
            amount(at + ".burn.amount", op.getBurn().getAmount()));
      case TRANSFER:
        var t = op.getTransfer();
        StatusRuntimeException e =
            firstOf(
                account(at + ".transfer.from", t.getFrom()),
                account(at + ".transfer.to", t.getTo()),
                amount(at + ".transfer.amount", t.getAmount()));
        if (e == null && t.getFrom().equals(t.getTo())) {
          return ApiErrors.invalid(at + ".transfer.to", "must differ from transfer.from");
        }
        return e;
      default:
        return ApiErrors.invalid(
            at, "no operation kind set (create_account, mint, burn or transfer)");
    }
  }

  /** Checks an account id given to a read. */
  static StatusRuntimeException account(String field, String id) {
    return Ledger.isValidId(id)
        ? null
        : ApiErrors.invalid(field, "must be 1-64 characters of [A-Za-z0-9._:-]");
  }

  static StatusRuntimeException readOptions(ReadOptions read) {
    if (read.getConsistencyValue() != 0 && read.getConsistencyValue() != 1) {
      return ApiErrors.invalid("read.consistency", "unknown value " + read.getConsistencyValue());
    }
    return null;
  }

  private static StatusRuntimeException amount(String field, long amount) {
    return amount == 0 ? ApiErrors.invalid(field, "must be greater than 0") : null;
  }

  private static StatusRuntimeException firstOf(StatusRuntimeException... errors) {
    for (StatusRuntimeException e : errors) {
      if (e != null) {
        return e;
      }
    }
    return null;
  }
}
