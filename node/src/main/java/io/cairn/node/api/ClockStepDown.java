package io.cairn.node.api;

import io.cairn.node.raft.Peer;
import io.cairn.node.raft.RaftNode;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A leader whose clock is off its majority's steps down: it hands leadership to a member whose
 * clock agrees with that majority, so entries are stamped by a clock that is right, not by a
 * corrected one. Until the handover completes (or if no member agrees, or it fails) the leader goes
 * on stamping its majority's time ({@link ClusterClock}), so writes never wait for it.
 *
 * <p>Acts on the clock's checker thread once {@code raft.clock.step.down.checks} checks in a row
 * (one a second) found the clock off, and at most once per 30 s per node, so a clock that is off on
 * several nodes cannot make leadership bounce between them faster than that. The handover takes at
 * most 3 s.
 */
final class ClockStepDown implements ClusterClock.OffListener {
  private static final Logger LOG = LoggerFactory.getLogger(ClockStepDown.class);
  static final long MIN_GAP_NANOS = TimeUnit.SECONDS.toNanos(30);
  static final long HANDOVER_MILLIS = 3_000;

  private final RaftNode raft;
  private final java.util.function.IntSupplier requiredChecks;
  private long lastNanos;
  private boolean tried;

  /**
   * @param requiredChecks {@code raft.clock.step.down.checks}, read at each call; 0: never
   */
  ClockStepDown(RaftNode raft, java.util.function.IntSupplier requiredChecks) {
    this.raft = raft;
    this.requiredChecks = requiredChecks;
  }

  @Override
  public void clockOff(int checks, long correctionMillis, List<String> agreeing) {
    int required = requiredChecks.getAsInt();
    if (required <= 0 || checks < required || !raft.status().isLeader()) {
      return;
    }
    long now = System.nanoTime();
    if (tried && now - lastNanos < MIN_GAP_NANOS) {
      return;
    }
    String target = target(raft.members(), agreeing);
    if (target.isEmpty()) {
      return; // no member agrees with the majority either: keep stamping its time
    }
    tried = true;
    lastNanos = now;
    LOG.warn(
        "this node's clock is {} ms off its majority's: handing leadership to {}, whose clock"
            + " agrees",
        -correctionMillis,
        target);
    String next = raft.handOverLeadershipTo(target, HANDOVER_MILLIS);
    if (next.isEmpty()) {
      LOG.warn(
          "the handover to {} did not complete; stamping the majority's time meanwhile", target);
    }
  }

  /** The first member (in membership order) whose API endpoint is among {@code agreeing}. */
  static String target(List<Peer> members, List<String> agreeing) {
    for (Peer p : members) {
      if (!p.apiEndpoint().isEmpty() && agreeing.contains(p.apiEndpoint())) {
        return p.id();
      }
    }
    return "";
  }
}
