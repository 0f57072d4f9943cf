package io.cairn.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** When a node takes its peers' time: only when a majority of the members agree it is off. */
class ClusterClockTest {
  static final long HOUR = 3_600_000;
  static final long TOLERANCE = 30_000;

  @Test
  void twoPeersAgreeingThatThisClockIsAnHourAheadCorrectIt() {
    assertEquals(-HOUR, ClusterClock.correction(List.of(-HOUR, -HOUR + 40), 3, TOLERANCE));
    assertEquals(
        -HOUR + 40, ClusterClock.correction(List.of(-HOUR + 40, -HOUR + 90), 3, TOLERANCE));
  }

  @Test
  void onePeerAloneOrTwoThatDisagreeNeverCorrect() {
    long undecided = ClusterClock.UNDECIDED;
    assertEquals(undecided, ClusterClock.correction(List.of(-HOUR), 3, TOLERANCE), "one peer");
    assertEquals(0, ClusterClock.correction(List.of(-HOUR, 0L), 3, TOLERANCE), "one agrees");
    assertEquals(undecided, ClusterClock.correction(List.of(HOUR, -HOUR), 3, TOLERANCE), "split");
    assertEquals(undecided, ClusterClock.correction(List.of(), 3, TOLERANCE), "no answer");
    assertEquals(0, ClusterClock.correction(List.of(), 1, TOLERANCE), "a single node");
  }

  @Test
  void smallDifferencesAreLeftAlone() {
    assertEquals(0, ClusterClock.correction(List.of(20_000L, 25_000L), 3, TOLERANCE));
  }

  @Test
  void inFiveMembersThreeAgreeingPeersAreAMajority() {
    assertEquals(
        -HOUR, ClusterClock.correction(List.of(-HOUR, -HOUR, -HOUR + 5, 0L), 5, TOLERANCE));
    assertEquals(0, ClusterClock.correction(List.of(-HOUR, -HOUR, 0L, 0L), 5, TOLERANCE));
    assertEquals(
        ClusterClock.UNDECIDED, ClusterClock.correction(List.of(-HOUR, -HOUR, 0L), 5, TOLERANCE));
  }
}
