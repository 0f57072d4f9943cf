package io.cairn.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cairn.node.raft.Peer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The step-down target is a member whose clock agrees with the majority, never another. */
class ClockStepDownTest {
  private static final List<Peer> MEMBERS =
      List.of(
          new Peer("n1", "h:1", "h:11"),
          new Peer("n2", "h:2", "h:12"),
          new Peer("n3", "h:3", "h:13"));

  @Test
  void picksTheFirstMemberWhoseClockAgrees() {
    assertEquals("n3", ClockStepDown.target(MEMBERS, List.of("h:13")));
    assertEquals("n2", ClockStepDown.target(MEMBERS, List.of("h:13", "h:12")));
  }

  @Test
  void noAgreeingMemberMeansNoHandover() {
    assertEquals("", ClockStepDown.target(MEMBERS, List.of()));
    assertEquals("", ClockStepDown.target(MEMBERS, List.of("elsewhere:1")));
  }
}
