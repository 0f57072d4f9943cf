package io.cairn.client.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.EndpointState;
import io.cairn.proto.ErrorDetail;
import io.grpc.Status;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** One breaker per endpoint, fed only with transport outcomes, on a clock the test moves. */
class EndpointHealthTest {
  static final String A = "a:1";
  static final String B = "b:1";
  static final String C = "c:1";
  static final long TIMEOUT = 1_000_000_000L;

  /** A clock that moves only when told. */
  static final class ManualClock extends Clock {
    volatile Instant now = Instant.parse("2030-01-01T00:00:00Z");

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }
  }

  final ManualClock clock = new ManualClock();
  final List<String> changes = new CopyOnWriteArrayList<>();
  final List<String> halfOpened = new CopyOnWriteArrayList<>();
  final EndpointHealth health =
      new EndpointHealth(
          new EndpointHealth.Settings(4, 4, 50, 1000, 0.8, 100),
          (e, s) -> changes.add(e + "=" + s),
          halfOpened::add,
          clock);

  void fail(String endpoint, int times) {
    for (int i = 0; i < times; i++) {
      EndpointHealth.Choice c = health.choose(List.of(endpoint), false);
      health.record(c, EndpointHealth.Outcome.TRANSPORT_FAILURE, 1000, TIMEOUT);
    }
  }

  @Test
  void onlyUnreachableOrTimedOutAttemptsAreTransportFailures() {
    ErrorDetail notLeader = ErrorDetail.newBuilder().setKind(ErrorDetail.Kind.NOT_LEADER).build();
    ErrorDetail noLeader = ErrorDetail.newBuilder().setKind(ErrorDetail.Kind.NO_LEADER).build();
    ErrorDetail notReady = ErrorDetail.newBuilder().setKind(ErrorDetail.Kind.NOT_READY).build();
    ErrorDetail overloaded = ErrorDetail.newBuilder().setKind(ErrorDetail.Kind.OVERLOADED).build();
    assertTrue(EndpointHealth.isTransportFailure(Status.Code.UNAVAILABLE, null));
    assertTrue(EndpointHealth.isTransportFailure(Status.Code.DEADLINE_EXCEEDED, null));
    assertFalse(EndpointHealth.isTransportFailure(Status.Code.UNAVAILABLE, notLeader));
    assertFalse(EndpointHealth.isTransportFailure(Status.Code.UNAVAILABLE, noLeader));
    assertFalse(EndpointHealth.isTransportFailure(Status.Code.UNAVAILABLE, notReady));
    assertFalse(EndpointHealth.isTransportFailure(Status.Code.RESOURCE_EXHAUSTED, overloaded));
    assertFalse(EndpointHealth.isTransportFailure(Status.Code.RESOURCE_EXHAUSTED, null));
    assertFalse(EndpointHealth.isTransportFailure(Status.Code.INVALID_ARGUMENT, null));
    assertFalse(EndpointHealth.isTransportFailure(Status.Code.PERMISSION_DENIED, null));
    assertFalse(EndpointHealth.isTransportFailure(Status.Code.CANCELLED, null));
  }

  @Test
  void transportFailuresOpenTheBreakerAndTheEndpointIsSkipped() {
    fail(A, 3);
    assertEquals(EndpointState.CLOSED, health.state(A), "judged only from the 4th call on");
    fail(A, 1);
    assertEquals(EndpointState.OPEN, health.state(A));
    assertEquals(List.of(A + "=OPEN"), changes);
    EndpointHealth.Choice c = health.choose(List.of(A, B), false);
    assertEquals(B, c.endpoint());
    assertTrue(c.permitted());
  }

  @Test
  void answersNeverOpenTheBreaker() {
    for (int i = 0; i < 50; i++) {
      EndpointHealth.Choice c = health.choose(List.of(A), false);
      health.record(c, EndpointHealth.Outcome.ANSWERED, 1000, TIMEOUT);
    }
    assertEquals(EndpointState.CLOSED, health.state(A));
    assertTrue(changes.isEmpty());
  }

  @Test
  void afterTheOpenWaitOneProbeIsLetThroughAndItsSuccessClosesTheBreaker() {
    fail(A, 4);
    clock.advance(Duration.ofMillis(999));
    assertEquals(B, health.choose(List.of(A, B), false).endpoint(), "still open");
    clock.advance(Duration.ofMillis(2));
    EndpointHealth.Choice probe = health.choose(List.of(A, B), false);
    assertEquals(A, probe.endpoint());
    assertTrue(probe.permitted());
    assertEquals(EndpointState.HALF_OPEN, health.state(A));
    assertEquals(List.of(A), halfOpened, "a half-open endpoint is told to reconnect now");
    assertEquals(B, health.choose(List.of(A, B), false).endpoint(), "one probe at a time");
    health.record(probe, EndpointHealth.Outcome.ANSWERED, 1000, TIMEOUT);
    assertEquals(EndpointState.CLOSED, health.state(A));
    assertEquals(List.of(A + "=OPEN", A + "=HALF_OPEN", A + "=CLOSED"), changes);
  }

  @Test
  void aProbeThatFailsOpensTheBreakerAgain() {
    fail(A, 4);
    clock.advance(Duration.ofSeconds(2));
    fail(A, 1);
    assertEquals(EndpointState.OPEN, health.state(A));
  }

  @Test
  void anAbandonedProbeGivesItsPermissionBack() {
    fail(A, 4);
    clock.advance(Duration.ofSeconds(2));
    EndpointHealth.Choice probe = health.choose(List.of(A), true);
    health.record(probe, EndpointHealth.Outcome.ABANDONED, 0, 0);
    EndpointHealth.Choice again = health.choose(List.of(A), true);
    assertEquals(A, again.endpoint());
    assertTrue(again.permitted());
  }

  @Test
  void whenEveryEndpointIsOpenTheOneOpenedFirstIsTriedWithoutAPermission() {
    fail(B, 4);
    fail(C, 4);
    fail(A, 4);
    EndpointHealth.Choice c = health.choose(List.of(A, B, C), false);
    assertEquals(B, c.endpoint());
    assertFalse(c.permitted());
    assertNull(health.choose(List.of(A, B, C), true), "a hedge is never sent to an open one");
  }

  @Test
  void successesNearTheirDeadlineAreSlowAndOpenTheBreaker() {
    for (int i = 0; i < 4; i++) {
      EndpointHealth.Choice c = health.choose(List.of(A), false);
      // 0.9 of the attempt's own timeout, over the 0.8 fraction: slow.
      health.record(c, EndpointHealth.Outcome.ANSWERED, TIMEOUT * 9 / 10, TIMEOUT);
    }
    assertEquals(EndpointState.OPEN, health.state(A));
    for (int i = 0; i < 4; i++) {
      EndpointHealth.Choice c = health.choose(List.of(B), false);
      health.record(c, EndpointHealth.Outcome.ANSWERED, TIMEOUT * 7 / 10, TIMEOUT);
    }
    assertEquals(EndpointState.CLOSED, health.state(B));
  }
}
