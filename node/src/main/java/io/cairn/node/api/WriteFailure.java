package io.cairn.node.api;

import io.cairn.proto.ErrorDetail;

/** Why a batch of writes was not answered with results; mapped to a gRPC status by the API. */
final class WriteFailure extends RuntimeException {
  private final ErrorDetail.Kind kind;
  private final String leaderId;
  private final boolean notApplied;

  WriteFailure(ErrorDetail.Kind kind, String leaderId, boolean notApplied, String message) {
    super(message, null, false, false);
    this.kind = kind;
    this.leaderId = leaderId;
    this.notApplied = notApplied;
  }

  ErrorDetail.Kind kind() {
    return kind;
  }

  String leaderId() {
    return leaderId;
  }

  boolean notApplied() {
    return notApplied;
  }
}
