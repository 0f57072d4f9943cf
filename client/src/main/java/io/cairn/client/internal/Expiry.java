package io.cairn.client.internal;

import io.cairn.client.CairnException;
import io.cairn.client.OutcomeUnknownException;
import io.cairn.proto.Operation;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ResultCode;
import io.cairn.proto.SubmitResponse;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns an {@code EXPIRED} result into an unknown outcome. The ledger answers {@code EXPIRED} for
 * an operation whose {@code created_at} is older than its dedupe window: it no longer remembers
 * whether that id was applied, so an {@code EXPIRED} answer to a resent operation (a retry) says
 * nothing about whether the first attempt applied. A caller must not read it as "not applied".
 */
public final class Expiry {
  private Expiry() {}

  /** An {@link OutcomeUnknownException} when {@code result} is EXPIRED, else null. */
  public static OutcomeUnknownException unknownIfExpired(Operation op, OperationResult result) {
    if (result.getCode() != ResultCode.EXPIRED) {
      return null;
    }
    return new OutcomeUnknownException(List.of(op.getId()), List.of(op), null, expired(1));
  }

  /**
   * An {@link OutcomeUnknownException} naming every EXPIRED operation of {@code sent} when there is
   * one (the response rides along for the other results), else null.
   */
  public static OutcomeUnknownException unknownIfAnyExpired(
      List<Operation> sent, SubmitResponse response) {
    List<String> ids = new ArrayList<>();
    List<Operation> ops = new ArrayList<>();
    int n = Math.min(sent.size(), response.getResultsCount());
    for (int i = 0; i < n; i++) {
      if (response.getResults(i).getCode() == ResultCode.EXPIRED) {
        ids.add(sent.get(i).getId());
        ops.add(sent.get(i));
      }
    }
    return ids.isEmpty() ? null : new OutcomeUnknownException(ids, ops, response, expired(n));
  }

  private static CairnException expired(int of) {
    return new CairnException(
        Status.Code.FAILED_PRECONDITION,
        null,
        false,
        "EXPIRED"
            + (of > 1 ? " (among " + of + " results)" : "")
            + ": created_at is older than the ledger's dedupe window, which no longer remembers"
            + " whether this id was applied",
        null);
  }
}
