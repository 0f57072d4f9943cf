package io.cairn.node.api;

import io.cairn.proto.ErrorDetail;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;

/**
 * Builds the failures the API sends: a gRPC status plus an {@link ErrorDetail} in the binary
 * trailer {@code cairn-error-bin}, so clients can tell NOT_LEADER from OVERLOADED without parsing
 * text.
 */
final class ApiErrors {
  static final Metadata.Key<ErrorDetail> DETAIL_KEY =
      Metadata.Key.of("cairn-error-bin", ProtoUtils.metadataMarshaller(ErrorDetail.getDefaultInstance()));

  private ApiErrors() {}

  static StatusRuntimeException of(Status status, ErrorDetail detail) {
    return status.asRuntimeException(trailers(detail));
  }

  /** The trailers that carry {@code detail}, for closing a call without building an exception. */
  static Metadata trailers(ErrorDetail detail) {
    Metadata trailers = new Metadata();
    trailers.put(DETAIL_KEY, detail);
    return trailers;
  }

  static StatusRuntimeException invalid(String field, String message) {
    return of(
        Status.INVALID_ARGUMENT.withDescription(field + ": " + message),
        ErrorDetail.newBuilder()
            .setKind(ErrorDetail.Kind.INVALID_REQUEST)
            .setField(field)
            .setNotApplied(true)
            .build());
  }

  static StatusRuntimeException overloaded(String what, int retryAfterMillis) {
    return of(overloadedStatus(what, retryAfterMillis), overloadedDetail(retryAfterMillis));
  }

  /**
   * RESOURCE_EXHAUSTED as a bare status: the admission gate refuses at the highest rates the node
   * sees, so it closes calls with this and {@link #overloadedDetail} rather than filling in the
   * stack trace of an exception nobody throws.
   */
  static Status overloadedStatus(String what, int retryAfterMillis) {
    return Status.RESOURCE_EXHAUSTED.withDescription(
        what + " is full; retry after " + retryAfterMillis + " ms");
  }

  static ErrorDetail overloadedDetail(int retryAfterMillis) {
    return ErrorDetail.newBuilder()
        .setKind(ErrorDetail.Kind.OVERLOADED)
        .setRetryAfterMillis(retryAfterMillis)
        .setNotApplied(true)
        .build();
  }

  static StatusRuntimeException notLeader(String leaderId, String leaderEndpoint, boolean notApplied) {
    ErrorDetail.Kind kind =
        leaderId.isEmpty() ? ErrorDetail.Kind.NO_LEADER : ErrorDetail.Kind.NOT_LEADER;
    String text =
        leaderId.isEmpty()
            ? "no leader is known yet; retry shortly"
            : "not the leader; the leader is " + leaderId + " at " + leaderEndpoint;
    return of(
        Status.UNAVAILABLE.withDescription(text),
        ErrorDetail.newBuilder()
            .setKind(kind)
            .setLeaderId(leaderId)
            .setLeaderEndpoint(leaderEndpoint)
            .setNotApplied(notApplied)
            .setRetryAfterMillis(leaderId.isEmpty() ? 100 : 0)
            .build());
  }

  static StatusRuntimeException compacted(long requested, long oldestAvailable) {
    return of(
        Status.OUT_OF_RANGE.withDescription(
            "watch: index " + requested + " is no longer held by this node (compacted); the"
                + " oldest available index is " + oldestAvailable),
        ErrorDetail.newBuilder()
            .setKind(ErrorDetail.Kind.COMPACTED)
            .setOldestAvailableIndex(oldestAvailable)
            .setNotApplied(true)
            .build());
  }

  static StatusRuntimeException unavailable(ErrorDetail.Kind kind, String message, boolean notApplied) {
    return of(
        Status.UNAVAILABLE.withDescription(message),
        ErrorDetail.newBuilder().setKind(kind).setNotApplied(notApplied).build());
  }
}
