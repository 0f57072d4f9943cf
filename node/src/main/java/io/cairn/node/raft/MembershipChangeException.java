package io.cairn.node.raft;

/** Why Raft refused a membership change, in Cairn's terms. */
public final class MembershipChangeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What went wrong. */
  public enum Reason {
    /** Another change is still being committed: one at a time. Retryable. */
    IN_PROGRESS,
    /** Raft refused this change (for example, the configuration changed meanwhile). */
    REFUSED
  }

  private final Reason reason;

  MembershipChangeException(Reason reason, String message) {
    super(message, null, false, false);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
