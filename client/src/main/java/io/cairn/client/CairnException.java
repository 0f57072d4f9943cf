package io.cairn.client;

import io.cairn.proto.ErrorDetail;
import io.grpc.Status;

/**
 * A call failed at the transport or cluster level (not a ledger result code: those come back in
 * {@code OperationResult}). {@link #isRetryable()} says whether trying again later may succeed.
 */
public class CairnException extends RuntimeException {
  private final Status.Code code;
  private final ErrorDetail detail;
  private final boolean retryable;

  public CairnException(
      Status.Code code, ErrorDetail detail, boolean retryable, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
    this.detail = detail == null ? ErrorDetail.getDefaultInstance() : detail;
    this.retryable = retryable;
  }

  /** The gRPC status code of the last attempt. */
  public Status.Code code() {
    return code;
  }

  /** The node's machine-readable detail (default instance when the node sent none). */
  public ErrorDetail detail() {
    return detail;
  }

  public boolean isRetryable() {
    return retryable;
  }
}
