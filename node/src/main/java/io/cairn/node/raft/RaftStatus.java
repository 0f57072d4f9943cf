package io.cairn.node.raft;

/**
 * This node's place in the group at one moment.
 *
 * @param role LEADER, FOLLOWER, CANDIDATE, LISTENER or UNKNOWN
 * @param term the current term
 * @param leaderId the leader this node knows (itself included), or empty
 */
public record RaftStatus(String role, long term, String leaderId) {
  /** The status of a node whose division is not up. */
  public static final RaftStatus DOWN = new RaftStatus("UNKNOWN", 0, "");

  public boolean isLeader() {
    return role.equals("LEADER");
  }

  public boolean knowsLeader() {
    return !leaderId.isEmpty();
  }
}
