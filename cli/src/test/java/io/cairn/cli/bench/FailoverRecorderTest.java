package io.cairn.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.cli.Json;
import io.cairn.proto.ErrorDetail;
import io.cairn.proto.errors.Errors;
import io.grpc.Status;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The pure parts of {@code bench failover}: recovery from recorded events, and its JSON. */
class FailoverRecorderTest {
  private static final long MS = 1_000_000L;

  /** Two callers that may use any node; times in ms from 0. */
  private static FailoverRecorder anyNode(int callers) {
    return new FailoverRecorder(new String[callers], 5000);
  }

  @Test
  void recoveryIsTheFirstAckOfAWriteSentAfterTheFault() {
    FailoverRecorder r = anyNode(2);
    r.fault("kill", "n1", 1000 * MS);
    r.acked(0, 900 * MS, 1500 * MS); // sent before the kill: does not count
    r.acked(1, 1200 * MS, 1700 * MS);
    r.acked(0, 1600 * MS, 1650 * MS);
    FailoverReport.FaultView v = FailoverReport.view(r, 0);
    assertEquals(650.0, v.firstMillis());
    assertEquals(700.0, v.allCallersMillis());
  }

  @Test
  void aFaultWithNoAckSentAfterItIsNotRecoveredAndMakesTheMaximumNull() {
    FailoverRecorder r = anyNode(1);
    r.fault("kill", "n1", 1000 * MS);
    r.acked(0, 10 * MS, 2000 * MS);
    Map<String, Object> j = Json.object();
    FailoverReport.put(j, "", r, 3.0);
    assertEquals(1, j.get("not_recovered"));
    assertTrue(Json.write(j).contains("\"recovery_max_ms\": null"), Json.write(j));
  }

  @Test
  void anAckAfterTwoFaultsCountsForBothWhenTheFirstHadNoneYet() {
    FailoverRecorder r = anyNode(1);
    r.fault("kill", "n1", 1000 * MS);
    r.fault("kill", "n2", 3000 * MS);
    r.acked(0, 3100 * MS, 3200 * MS);
    assertEquals(2200.0, r.recoveryMillis(0)[0]);
    assertEquals(200.0, r.recoveryMillis(1)[0]);
  }

  @Test
  void callersBoundToTheFaultedNodeDoNotHoldUpAllCallers() {
    FailoverRecorder r = new FailoverRecorder(new String[] {"n1", "n2"}, 5000);
    r.fault("kill", "n1", 0);
    r.acked(1, 10 * MS, 300 * MS);
    FailoverReport.FaultView v = FailoverReport.view(r, 0);
    assertEquals(300.0, v.allCallersMillis());
  }

  @Test
  void theLongestGapAndTheErrorsCountInTheWindowTheyEndIn() {
    FailoverRecorder r = anyNode(1);
    r.acked(0, 0, 100 * MS);
    r.fault("kill", "n1", 200 * MS);
    r.unknown(250 * MS);
    r.failed(260 * MS);
    r.acked(0, 900 * MS, 1100 * MS);
    r.acked(0, 1100 * MS, 1150 * MS);
    assertEquals(1000.0, r.maxGapMillis(1));
    assertEquals(1, r.unknown(1));
    assertEquals(1, r.failed(1));
    assertEquals(0, r.failed(0));
  }

  @Test
  void aCallerIsStuckOnlyWhileALeaderExistsAndItsNodeAnswers() {
    FailoverRecorder r = new FailoverRecorder(new String[] {"n1", "n2"}, 5000);
    for (int t = 1; t <= 60; t++) {
      r.tick(t * 100 * MS, 100 * MS, true, Set.of("n2")); // n1 down: its caller is not stuck
    }
    for (int t = 61; t <= 120; t++) {
      r.tick(t * 100 * MS, 100 * MS, false, Set.of("n1", "n2")); // no leader: nobody is
    }
    assertEquals(1, r.stuckEpisodes());
    assertEquals(1, r.episodes().get(0).stream());
    r.acked(1, 0, 12_100 * MS);
    for (int t = 122; t <= 170; t++) {
      r.tick(t * 100 * MS, 100 * MS, true, Set.of("n1", "n2"));
    }
    assertEquals(1, r.stuckEpisodes(), "4.9 s more is not yet stuck for the caller that acked");
  }

  @Test
  void theJsonCarriesTheKeysTheAcceptanceChecks() {
    FailoverRecorder java = anyNode(1);
    FailoverRecorder stub = new FailoverRecorder(new String[] {"n2"}, 5000);
    for (FailoverRecorder r : List.of(java, stub)) {
      r.fault("kill", "n1", 0);
      r.fault("kill", "n3", 10_000 * MS);
    }
    java.acked(0, 1 * MS, 400 * MS);
    java.acked(0, 10_001 * MS, 10_600 * MS);
    stub.acked(0, 1 * MS, 900 * MS);
    stub.acked(0, 10_001 * MS, 11_000 * MS);
    Map<String, Object> j = Json.object();
    FailoverReport.put(j, "", java, 20);
    FailoverReport.put(j, "stub_", stub, 20);
    assertEquals(500.0, j.get("recovery_median_ms"));
    assertEquals(600.0, j.get("recovery_max_ms"));
    assertEquals(950.0, j.get("stub_recovery_median_ms"));
    assertEquals(0L, j.get("failed"));
    assertEquals(0L, j.get("stub_unknown"));
    String text = Json.write(j);
    assertTrue(text.contains("\"recovery_ms\": [400.000, 600.000]"), text);
    assertTrue(text.contains("\"stub_per_fault\": [{\"recovery_ms\": 900.000"), text);
  }

  @Test
  void theMedianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
    assertEquals(2.5, FailoverReport.median(new double[] {4, 1, 3, 2}));
    assertTrue(Double.isNaN(FailoverReport.median(new double[0])));
  }

  @Test
  void theLeaderChangeCounterIsReadFromPrometheusText() {
    String page =
        "# HELP cairn_raft_leader_changes_total Leader changes seen by this node\n"
            + "# TYPE cairn_raft_leader_changes_total counter\n"
            + "cairn_raft_leader_changes_total{node=\"n1\"} 3.0\n"
            + "cairn_raft_is_leader{node=\"n1\"} 1.0\n";
    assertEquals(3, NodeControl.parseLeaderChanges(page));
    assertEquals(-1, NodeControl.parseLeaderChanges("cairn_raft_is_leader 1.0\n"));
  }

  @Test
  void aStubAttemptRefusedByNotLeaderWasNotAppliedButADeadlineMayHaveBeen() {
    ErrorDetail notLeader = ErrorDetail.newBuilder().setKind(ErrorDetail.Kind.NOT_LEADER).build();
    ErrorDetail unknown =
        ErrorDetail.newBuilder().setKind(ErrorDetail.Kind.OUTCOME_UNKNOWN).build();
    assertTrue(!FailoverLoad.outcomeUnknown(Errors.exception(notLeader, "not the leader")));
    assertTrue(FailoverLoad.outcomeUnknown(Errors.exception(unknown, "leader changed")));
    assertTrue(FailoverLoad.outcomeUnknown(Status.DEADLINE_EXCEEDED.asRuntimeException()));
    assertTrue(
        !FailoverLoad.outcomeUnknown(
            Status.UNAVAILABLE
                .withCause(new java.net.ConnectException("Connection refused"))
                .asRuntimeException()));
    assertNull(Errors.detailOf(Status.UNAVAILABLE.asRuntimeException()));
  }
}
