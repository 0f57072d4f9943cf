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

  /**
   * The chaos suite's clock-jump run found this: samples taken just before this node's clock jumped
   * 15 min ahead were kept as offsets (about 0), so the next check, with peers slow to answer, read
   * them as "the peers agree with me" and the leader stamped the jumped time: 1,140 EXPIRED.
   */
  @Test
  void samplesTakenBeforeThisClockJumpsShowTheJump() {
    long t0 = 1_700_000_000_000L;
    long jump = 15 * 60_000;
    long sampledAt = 1_000_000_000L; // monotonic ns
    List<ClusterClock.Sample> samples =
        List.of(new ClusterClock.Sample(t0, sampledAt), new ClusterClock.Sample(t0 + 5, sampledAt));
    long later = sampledAt + 2_000_000_000L; // 2 s on, within freshness
    List<Long> offsets = ClusterClock.offsets(samples, later, t0 + 2_000 + jump);
    assertEquals(List.of(-jump, -jump + 5), offsets);
    assertEquals(-jump, ClusterClock.correction(offsets, 3, TOLERANCE));
    // Stale samples are left out.
    assertEquals(List.of(), ClusterClock.offsets(samples, sampledAt + 6_000_000_000L, t0));
  }
}
