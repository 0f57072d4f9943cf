package io.cairn.proto.errors;

import io.cairn.proto.ErrorDetail;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import java.util.EnumMap;
import java.util.Map;

/**
 * The one error table of the API, shared by node and client: the trailer that carries an {@link
 * ErrorDetail}, which gRPC status each {@link ErrorDetail.Kind} is sent with, and which failures a
 * client may retry.
 *
 * <p>A node builds every failure with {@link #exception}; a client reads the detail with {@link
 * #detailOf} and decides with {@link #isRetryable}. Neither side maps errors anywhere else.
 */
public final class Errors {
  /** The binary trailer that carries an {@link ErrorDetail} beside the gRPC status. */
  public static final Metadata.Key<ErrorDetail> DETAIL_KEY =
      Metadata.Key.of(
          "cairn-error-bin", ProtoUtils.metadataMarshaller(ErrorDetail.getDefaultInstance()));

  /**
   * A response header a follower sets on every call it forwarded to the leader: {@code <leader
   * id>=<leader's API endpoint>}. A client may use it to go to the leader directly next time; the
   * answer itself is the leader's, whether or not it does.
   */
  public static final Metadata.Key<String> LEADER_KEY =
      Metadata.Key.of("cairn-leader", Metadata.ASCII_STRING_MARSHALLER);

  /**
   * A request header only a replica may send (its certificate's CN is {@code node:<id>}): the
   * principal of the client whose call that replica forwards. The leader ignores it from anyone
   * else.
   */
  public static final Metadata.Key<String> FORWARDED_FOR_KEY =
      Metadata.Key.of("cairn-forwarded-for", Metadata.ASCII_STRING_MARSHALLER);

  private static final Map<ErrorDetail.Kind, Status.Code> STATUS =
      new EnumMap<>(ErrorDetail.Kind.class);

  static {
    STATUS.put(ErrorDetail.Kind.NOT_LEADER, Status.Code.UNAVAILABLE);
    STATUS.put(ErrorDetail.Kind.NO_LEADER, Status.Code.UNAVAILABLE);
    STATUS.put(ErrorDetail.Kind.NOT_READY, Status.Code.UNAVAILABLE);
    STATUS.put(ErrorDetail.Kind.OUTCOME_UNKNOWN, Status.Code.UNAVAILABLE);
    STATUS.put(ErrorDetail.Kind.OVERLOADED, Status.Code.RESOURCE_EXHAUSTED);
    STATUS.put(ErrorDetail.Kind.NO_SPACE, Status.Code.RESOURCE_EXHAUSTED);
    STATUS.put(ErrorDetail.Kind.INVALID_REQUEST, Status.Code.INVALID_ARGUMENT);
    STATUS.put(ErrorDetail.Kind.COMPACTED, Status.Code.OUT_OF_RANGE);
    STATUS.put(ErrorDetail.Kind.PERMISSION_DENIED, Status.Code.PERMISSION_DENIED);
  }

  private Errors() {}

  /** The gRPC status code a failure of {@code kind} is sent with. */
  public static Status.Code statusOf(ErrorDetail.Kind kind) {
    Status.Code code = STATUS.get(kind);
    if (code == null) {
      throw new IllegalArgumentException("no status for error kind " + kind);
    }
    return code;
  }

  /** The trailers that carry {@code detail}. */
  public static Metadata trailers(ErrorDetail detail) {
    Metadata trailers = new Metadata();
    trailers.put(DETAIL_KEY, detail);
    return trailers;
  }

  /** The status a failure of {@code detail}'s kind is sent with, described by {@code message}. */
  public static Status status(ErrorDetail detail, String message) {
    return Status.fromCode(statusOf(detail.getKind())).withDescription(message);
  }

  /** A failure to send: the status of {@code detail}'s kind, with the detail as trailer. */
  public static StatusRuntimeException exception(ErrorDetail detail, String message) {
    return status(detail, message).asRuntimeException(trailers(detail));
  }

  /** The detail a failed call carried, or null when it carried none (a transport failure). */
  public static ErrorDetail detailOf(Throwable failure) {
    Metadata trailers = Status.trailersFromThrowable(failure);
    return trailers == null ? null : trailers.get(DETAIL_KEY);
  }

  /**
   * Whether a client may send the same request again: the cluster may answer differently later (no
   * leader yet, overloaded, a deadline passed, a conflicting change in progress). Writes are safe
   * to resend because operation ids make them exactly-once; RESOURCE_EXHAUSTED without a detail is
   * gRPC's own message-size refusal, which no retry changes.
   */
  public static boolean isRetryable(Status.Code code, ErrorDetail detail) {
    return code == Status.Code.UNAVAILABLE
        || code == Status.Code.DEADLINE_EXCEEDED
        || code == Status.Code.ABORTED
        || (code == Status.Code.RESOURCE_EXHAUSTED && detail != null);
  }
}
