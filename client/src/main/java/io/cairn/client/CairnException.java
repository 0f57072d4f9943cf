package io.cairn.client;

import io.cairn.proto.ErrorDetail;
import io.grpc.Status;

/**
 * A call failed at the transport or cluster level (not a ledger result code: those come back in
 * {@code OperationResult}). Unchecked; thrown by the blocking methods of {@link CairnClient} and
 * {@link Subscription#poll}, and used to complete the futures of the async ones.
 *
 * <p>{@link #code()} is the gRPC status, {@link #detail()} the node's machine-readable reason, and
 * {@link #isRetryable()} says whether trying again later may succeed. By the client's one error
 * table ({@code io.cairn.proto.errors.Errors}) these are retryable: UNAVAILABLE (no leader, node
 * not ready or unreachable, or the node's own OUTCOME_UNKNOWN), DEADLINE_EXCEEDED, ABORTED, and
 * RESOURCE_EXHAUSTED carrying a detail (a full queue or limit, on a node or in this client). The
 * client has already retried them within its budget before throwing. Everything else is final: fix
 * the request or the setup before trying again. Two subtypes need their own handling: {@link
 * OutcomeUnknownException} (a write may or may not be applied) and {@link CompactedException} (a
 * subscription's entries are gone).
 */
public class CairnException extends RuntimeException {
  private final Status.Code code;
  private final ErrorDetail detail;
  private final boolean retryable;

  /**
   * Made by the client library; applications normally only catch it.
   *
   * @param detail the node's detail, or null when it sent none
   */
  public CairnException(
      Status.Code code, ErrorDetail detail, boolean retryable, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
    this.detail = detail == null ? ErrorDetail.getDefaultInstance() : detail;
    this.retryable = retryable;
  }

  /**
   * The gRPC status code of the last attempt: sent by the node, set by gRPC for a transport failure
   * (UNAVAILABLE, DEADLINE_EXCEEDED), or chosen by the client for a failure of its own
   * (INVALID_ARGUMENT before sending, RESOURCE_EXHAUSTED for a full client queue, DATA_LOSS for a
   * proof or event chain that does not check out, CANCELLED when closed or interrupted).
   */
  public Status.Code code() {
    return code;
  }

  /**
   * The node's machine-readable detail (default instance when the node sent none, as for a
   * transport failure): its kind, the leader's endpoint for NOT_LEADER, {@code retry_after_millis},
   * {@code not_applied} when the node knows nothing reached the log, and the offending {@code
   * field} for INVALID_REQUEST.
   */
  public ErrorDetail detail() {
    return detail;
  }

  /**
   * Whether the same call may succeed later, unchanged: the cluster may answer differently (a
   * leader elected, a queue drained). False means retrying the same request gives the same failure.
   * For a write, retrying with the same operations is always safe: their ids make it exactly once.
   */
  public boolean isRetryable() {
    return retryable;
  }
}
