package io.cairn.node.raft;

import io.cairn.proto.ErrorDetail;
import java.util.concurrent.CompletionException;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;

/**
 * Why a write was not answered with results, in Cairn's terms: the API maps it to a gRPC status and
 * never sees a Ratis exception. Carries no stack trace: it is an answer, not a bug.
 */
public final class WriteFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorDetail.Kind kind;
  private final String leaderId;
  private final boolean notApplied;

  /**
   * @param kind what happened
   * @param leaderId the leader Raft suggests, or empty
   * @param notApplied true only when the write surely did not reach the log
   * @param message for people and logs
   */
  public WriteFailure(ErrorDetail.Kind kind, String leaderId, boolean notApplied, String message) {
    super(message, null, false, false);
    this.kind = kind;
    this.leaderId = leaderId;
    this.notApplied = notApplied;
  }

  /** What a Ratis failure of a local write means for the client. */
  public static WriteFailure of(Throwable t) {
    Throwable cause = t;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof WriteFailure wf) {
      return wf;
    }
    if (cause instanceof NotLeaderException nle) {
      // The entry may already be in the log of the old leader: only a retry (same ids) can tell.
      String leader =
          nle.getSuggestedLeader() == null ? "" : nle.getSuggestedLeader().getId().toString();
      return new WriteFailure(ErrorDetail.Kind.NOT_LEADER, leader, false, "leader changed");
    }
    if (cause instanceof LeaderNotReadyException) {
      return new WriteFailure(ErrorDetail.Kind.NO_LEADER, "", true, "leader not ready yet");
    }
    if (cause instanceof ResourceUnavailableException) {
      return new WriteFailure(ErrorDetail.Kind.OVERLOADED, "", true, "raft write queue full");
    }
    return new WriteFailure(
        ErrorDetail.Kind.OUTCOME_UNKNOWN,
        "",
        false,
        cause == null ? "unknown failure" : cause.toString());
  }

  public ErrorDetail.Kind kind() {
    return kind;
  }

  public String leaderId() {
    return leaderId;
  }

  public boolean notApplied() {
    return notApplied;
  }
}
