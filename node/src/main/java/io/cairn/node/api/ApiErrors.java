package io.cairn.node.api;

import io.cairn.proto.ErrorDetail;
import io.cairn.proto.errors.Errors;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The failures the API sends, each an {@link ErrorDetail} sent with the status that the one error
 * table ({@link Errors}) gives its kind, so clients can tell NOT_LEADER from OVERLOADED without
 * parsing text. Only the texts and hints are decided here.
 */
final class ApiErrors {
  private ApiErrors() {}

  /** The trailers that carry {@code detail}, for closing a call without building an exception. */
  static Metadata trailers(ErrorDetail detail) {
    return Errors.trailers(detail);
  }

  static StatusRuntimeException invalid(String field, String message) {
    return Errors.exception(
        ErrorDetail.newBuilder()
            .setKind(ErrorDetail.Kind.INVALID_REQUEST)
            .setField(field)
            .setNotApplied(true)
            .build(),
        field + ": " + message);
  }

  static StatusRuntimeException overloaded(String what, int retryAfterMillis) {
    return overloadedStatus(what, retryAfterMillis)
        .asRuntimeException(trailers(overloadedDetail(retryAfterMillis)));
  }

  /**
   * RESOURCE_EXHAUSTED as a bare status: the admission gate refuses at the highest rates the node
   * sees, so it closes calls with this and {@link #overloadedDetail} rather than filling in the
   * stack trace of an exception nobody throws.
   */
  static Status overloadedStatus(String what, int retryAfterMillis) {
    return Errors.status(
        overloadedDetail(retryAfterMillis),
        what + " is full; retry after " + retryAfterMillis + " ms");
  }

  static ErrorDetail overloadedDetail(int retryAfterMillis) {
    return ErrorDetail.newBuilder()
        .setKind(ErrorDetail.Kind.OVERLOADED)
        .setRetryAfterMillis(retryAfterMillis)
        .setNotApplied(true)
        .build();
  }

  /** PERMISSION_DENIED for a whole call (nothing of it was appended), saying why. */
  static StatusRuntimeException permissionDenied(String why) {
    ErrorDetail detail =
        ErrorDetail.newBuilder()
            .setKind(ErrorDetail.Kind.PERMISSION_DENIED)
            .setNotApplied(true)
            .build();
    return Errors.exception(detail, why);
  }

  /** Why a principal without any role is refused. */
  static String holdsNoRole(String principal) {
    return principal + " holds no role (cairnctl role grant " + principal + " member)";
  }

  /** NO_SPACE: writes are refused while {@code low} is low on space (nothing was appended). */
  static StatusRuntimeException noSpace(SpaceWatch.Low low) {
    return Errors.exception(
        ErrorDetail.newBuilder()
            .setKind(ErrorDetail.Kind.NO_SPACE)
            .setRetryAfterMillis(1000)
            .setNotApplied(true)
            .build(),
        "no space: node "
            + low.nodeId()
            + " has "
            + low.freeBytes()
            + " bytes free"
            + (low.minBytes() > 0 ? ", below node.data.min.free.bytes=" + low.minBytes() : "")
            + "; the cluster refuses writes until it has space again (reads go on)");
  }

  static StatusRuntimeException notLeader(
      String leaderId, String leaderEndpoint, boolean notApplied) {
    ErrorDetail.Kind kind =
        leaderId.isEmpty() ? ErrorDetail.Kind.NO_LEADER : ErrorDetail.Kind.NOT_LEADER;
    String text =
        leaderId.isEmpty()
            ? "no leader is known yet; retry shortly"
            : "not the leader; the leader is " + leaderId + " at " + leaderEndpoint;
    return Errors.exception(
        ErrorDetail.newBuilder()
            .setKind(kind)
            .setLeaderId(leaderId)
            .setLeaderEndpoint(leaderEndpoint)
            .setNotApplied(notApplied)
            .setRetryAfterMillis(leaderId.isEmpty() ? 100 : 0)
            .build(),
        text);
  }

  static StatusRuntimeException compacted(long requested, long oldestAvailable) {
    return Errors.exception(
        ErrorDetail.newBuilder()
            .setKind(ErrorDetail.Kind.COMPACTED)
            .setOldestAvailableIndex(oldestAvailable)
            .setNotApplied(true)
            .build(),
        "watch: index "
            + requested
            + " is no longer held by this node (compacted); the"
            + " oldest available index is "
            + oldestAvailable);
  }

  static StatusRuntimeException unavailable(
      ErrorDetail.Kind kind, String message, boolean notApplied) {
    return Errors.exception(
        ErrorDetail.newBuilder().setKind(kind).setNotApplied(notApplied).build(), message);
  }
}
