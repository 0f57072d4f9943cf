package io.cairn.cli.bench;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** {@code bench failover}'s human report: what was measured and how, the table, the summary. */
final class FailoverText {
  private FailoverText() {}

  static final String WHAT =
      """
      What was measured: each fault's instant is taken right after the signal was sent (SIGKILL,
      SIGSTOP) or, for roll, when scripts/cluster roll printed 'roll: restarting nN' (just before
      its SIGTERM). Per client kind:
        ms      from the fault to the first acknowledgement of a write SENT AFTER it, by any
                caller (Java client: a call started after it, with the client's own retries
                inside; stub: an attempt sent after it);
        all ms  until every caller not bound to the faulted node had such an acknowledgement;
        gap ms  the longest time without any acknowledgement that ended after the fault;
        fail    calls that ended with a final error, in the fault's window (to the next fault);
        unkn    calls that ended with their outcome unknown (Java: OutcomeUnknownException;
                stub: out of attempts after a deadline or an UNAVAILABLE that may have applied);
        stuck   stub callers with no acknowledgement for the stuck bound while a leader existed
                and the caller's own node answered ClusterStatus.""";

  static String render(
      Map<String, Object> j,
      FailoverRecorder java,
      FailoverRecorder stub,
      long start,
      Supplier<String> settings) {
    StringBuilder sb = new StringBuilder();
    sb.append("bench failover: ").append(settings.get()).append('\n');
    sb.append(WHAT).append("\n\n");
    if (!java.faults().isEmpty()) {
      sb.append(FailoverReport.table(java, stub, start)).append('\n');
    }
    sb.append(kind("java client", "", j)).append('\n');
    if (stub.streams() > 0) {
      sb.append(kind("stub client", "stub_", j))
          .append(String.format(", stuck %s%n", j.get("stub_stuck")));
    }
    sb.append(leaderChanges(j));
    Object whole = j.get("whole_again_s");
    if (whole instanceof List<?> l && !l.isEmpty()) {
      sb.append("\nevery node up and caught up again, s after each fault:");
      for (Object o : l) {
        sb.append(String.format(" %.1f", (Double) o));
      }
    }
    Object steps = j.get("roll_steps");
    if (steps instanceof List<?> l && !l.isEmpty()) {
      sb.append("\nroll, restart to caught up:");
      for (Object o : l) {
        Map<?, ?> m = (Map<?, ?>) o;
        sb.append(String.format(" %s %s s", m.get("node"), m.get("seconds")));
      }
    }
    return sb.toString();
  }

  private static String kind(String name, String p, Map<String, Object> j) {
    return String.format(
        "%s: recovery median %s, max %s (not recovered %s); every caller median %s,"
            + " max %s; failed %s, unknown %s, non-OK codes %s, replayed %s, left unanswered at the end %s; %s acked (%.0f/s)",
        name,
        withUnit((Double) j.get(p + "recovery_median_ms")),
        withUnit((Double) j.get(p + "recovery_max_ms")),
        j.get(p + "not_recovered"),
        withUnit((Double) j.get(p + "all_callers_median_ms")),
        withUnit((Double) j.get(p + "all_callers_max_ms")),
        j.get(p + "failed"),
        j.get(p + "unknown"),
        j.get(p + "non_ok_codes"),
        j.get(p + "replayed"),
        j.get(p + "unanswered_at_end"),
        j.get(p + "acked"),
        (Double) j.get(p + "acked_per_sec"));
  }

  private static String withUnit(double ms) {
    String v = FailoverReport.ms(ms);
    return Double.isFinite(ms) ? v + " ms" : v;
  }

  private static String leaderChanges(Map<String, Object> j) {
    Map<?, ?> before = (Map<?, ?>) j.get("leader_changes_before");
    Map<?, ?> after = (Map<?, ?>) j.get("leader_changes_after");
    StringBuilder sb = new StringBuilder("cairn.raft.leader.changes per node, before -> after:");
    for (Object n : before.keySet()) {
      sb.append(String.format(" %s %s -> %s", n, before.get(n), after.get(n)));
    }
    sb.append(
        String.format(
            "; leader's term %s -> %s (a killed node's counter restarts at 0)",
            io.cairn.cli.Json.write(j.get("term_before")),
            io.cairn.cli.Json.write(j.get("term_after"))));
    return sb.toString();
  }
}
