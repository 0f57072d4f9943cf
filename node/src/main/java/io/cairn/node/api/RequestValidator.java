package io.cairn.node.api;

import io.cairn.node.config.HotSettings;
import io.cairn.proto.ReadOptions;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.rules.Rules;
import io.grpc.StatusRuntimeException;

/**
 * Checks requests before anything is replicated, with the rule book ({@link Rules}) the ledger
 * applies again on every replica, and names the offending field. The ledger's check is what keeps
 * replicas alike; this one is what gives a caller a clear INVALID_ARGUMENT instead of a result code
 * for a request that could never succeed.
 */
final class RequestValidator {
  private final HotSettings hot;

  RequestValidator(HotSettings hot) {
    this.hot = hot;
  }

  /**
   * Returns null when the request is acceptable, else the error to send. Its size was checked
   * before it was parsed (ApiServer.RequestGuard).
   */
  StatusRuntimeException check(SubmitRequest request) {
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
      Rules.Violation v = Rules.check(request.getOperations(i));
      if (v != null) {
        return ApiErrors.invalid("operations[" + i + "]." + v.field(), v.message());
      }
    }
    return null;
  }

  /** Checks an account id given to a read. */
  static StatusRuntimeException account(String field, String id) {
    Rules.Violation v = Rules.account(field, id);
    return v == null ? null : ApiErrors.invalid(field, v.message());
  }

  static StatusRuntimeException readOptions(ReadOptions read) {
    if (read.getConsistencyValue() != 0 && read.getConsistencyValue() != 1) {
      return ApiErrors.invalid("read.consistency", "unknown value " + read.getConsistencyValue());
    }
    return null;
  }
}
