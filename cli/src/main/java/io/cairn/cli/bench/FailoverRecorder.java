package io.cairn.cli.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What one kind of client saw around faults, for {@code bench failover}: fault instants, and per
 * caller ("stream") the first acknowledgement of a write sent after each fault; the longest time
 * without any acknowledgement in each window (from one fault to the next); final errors and unknown
 * outcomes per window; and "stuck" episodes (a caller without an acknowledgement for longer than a
 * bound while the cluster had a leader and the caller's node answered). Times are {@link
 * System#nanoTime()} values passed in, so the computation is pure and testable. Thread-safe:
 * callers record from their own threads; faults and ticks come from one thread each.
 *
 * <p>Window 0 is the time before the first fault; fault {@code k} (from 0) opens window {@code k +
 * 1}.
 */
final class FailoverRecorder {
  /** Most faults one run records (the bench's --faults bound is below it). */
  static final int MAX_FAULTS = 128;

  /** Most stuck episodes kept (the count goes on past it). */
  static final int MAX_EPISODES = 1000;

  private static final long NONE = Long.MAX_VALUE;

  /** A fault: what was done, to which node ({@code n2}), when (nanoTime). */
  record Fault(String kind, String node, long atNanos) {}

  /** A caller with no acknowledgement for more than the stuck bound, from {@code sinceNanos}. */
  record Episode(int stream, String node, long sinceNanos) {}

  private final String[] streamNodes;
  private final long stuckNanos;
  private final Fault[] faults = new Fault[MAX_FAULTS];
  private volatile int faultCount;
  private final AtomicLongArray firstAck;
  private final AtomicLongArray maxGapNanos = new AtomicLongArray(MAX_FAULTS + 1);
  private final AtomicLongArray failedIn = new AtomicLongArray(MAX_FAULTS + 1);
  private final AtomicLongArray unknownIn = new AtomicLongArray(MAX_FAULTS + 1);
  private final AtomicLongArray ackedIn = new AtomicLongArray(MAX_FAULTS + 1);
  private final AtomicLong lastAck = new AtomicLong(NONE);
  private final AtomicLongArray starvedNanos;
  private final AtomicLongArray stuckNow;
  private final List<Episode> episodes = new ArrayList<>();
  private final AtomicLong episodeCount = new AtomicLong();
  final AtomicLong nonOk = new AtomicLong();
  final AtomicLong replayed = new AtomicLong();
  final AtomicLong unansweredAtEnd = new AtomicLong();

  /**
   * @param streamNodes per caller, the node it is bound to ({@code n1}), or null for a caller that
   *     may use any node
   * @param stuckMillis how long without an acknowledgement counts as stuck
   */
  FailoverRecorder(String[] streamNodes, long stuckMillis) {
    this.streamNodes = streamNodes.clone();
    this.stuckNanos = TimeUnit.MILLISECONDS.toNanos(stuckMillis);
    this.firstAck = new AtomicLongArray(MAX_FAULTS * streamNodes.length);
    for (int i = 0; i < firstAck.length(); i++) {
      firstAck.set(i, NONE);
    }
    this.starvedNanos = new AtomicLongArray(streamNodes.length);
    this.stuckNow = new AtomicLongArray(streamNodes.length);
  }

  int streams() {
    return streamNodes.length;
  }

  String streamNode(int stream) {
    return streamNodes[stream];
  }

  /** Records a fault at {@code atNanos}, no earlier than the one before; returns its number. */
  synchronized int fault(String kind, String node, long atNanos) {
    int k = faultCount;
    if (k == MAX_FAULTS) {
      throw new IllegalStateException("more than " + MAX_FAULTS + " faults in one run");
    }
    if (k > 0 && atNanos < faults[k - 1].atNanos()) {
      throw new IllegalArgumentException("faults must be recorded in time order");
    }
    faults[k] = new Fault(kind, node, atNanos);
    faultCount = k + 1; // volatile write: publishes faults[k]
    return k;
  }

  List<Fault> faults() {
    return List.of(java.util.Arrays.copyOf(faults, faultCount));
  }

  /** The window {@code t} falls in: the number of faults at or before it. */
  int window(long t) {
    int n = faultCount;
    int w = 0;
    while (w < n && faults[w].atNanos() <= t) {
      w++;
    }
    return w;
  }

  /**
   * Caller {@code stream}'s write sent at {@code sentNanos} was acknowledged at {@code ackNanos}.
   */
  void acked(int stream, long sentNanos, long ackNanos) {
    int n = faultCount;
    for (int k = n - 1; k >= 0; k--) {
      if (faults[k].atNanos() > sentNanos) {
        continue;
      }
      int i = k * streamNodes.length + stream;
      long seen = firstAck.get(i);
      if (seen != NONE && seen <= ackNanos) {
        break; // this caller's earlier faults were acknowledged no later than this either
      }
      firstAck.accumulateAndGet(i, ackNanos, Math::min);
    }
    int w = window(ackNanos);
    ackedIn.incrementAndGet(w);
    long prev = lastAck.getAndAccumulate(ackNanos, (a, b) -> a == NONE ? b : Math.max(a, b));
    if (prev != NONE && ackNanos > prev) {
      maxGapNanos.accumulateAndGet(w, ackNanos - prev, Math::max);
    }
    starvedNanos.set(stream, 0);
    stuckNow.set(stream, 0);
  }

  /** A call ended with a final error at {@code atNanos}. */
  void failed(long atNanos) {
    failedIn.incrementAndGet(window(atNanos));
  }

  /** A call ended with its outcome unknown at {@code atNanos}. */
  void unknown(long atNanos) {
    unknownIn.incrementAndGet(window(atNanos));
  }

  /**
   * {@code elapsedNanos} passed up to {@code nowNanos}: a caller without an acknowledgement accrues
   * it while {@code leaderPresent} and its node (if bound to one) is in {@code upNodes}.
   */
  void tick(
      long nowNanos, long elapsedNanos, boolean leaderPresent, java.util.Set<String> upNodes) {
    if (!leaderPresent) {
      return;
    }
    for (int s = 0; s < streamNodes.length; s++) {
      if (streamNodes[s] != null && !upNodes.contains(streamNodes[s])) {
        continue;
      }
      long starved = starvedNanos.addAndGet(s, elapsedNanos);
      if (starved > stuckNanos && stuckNow.compareAndSet(s, 0, 1)) {
        episodeCount.incrementAndGet();
        synchronized (episodes) {
          if (episodes.size() < MAX_EPISODES) {
            episodes.add(new Episode(s, streamNodes[s], nowNanos - starved));
          }
        }
      }
    }
  }

  /**
   * Per caller, ms from fault {@code k} to the first acknowledgement of a write that caller sent
   * after it; {@link Double#POSITIVE_INFINITY} for none (yet).
   */
  double[] recoveryMillis(int k) {
    double[] out = new double[streamNodes.length];
    long at = faults[k].atNanos();
    for (int s = 0; s < out.length; s++) {
      long a = firstAck.get(k * streamNodes.length + s);
      out[s] = a == NONE ? Double.POSITIVE_INFINITY : (a - at) / 1e6;
    }
    return out;
  }

  /** The longest time without any acknowledgement that ended in window {@code w}, in ms. */
  double maxGapMillis(int w) {
    return maxGapNanos.get(w) / 1e6;
  }

  long failed(int w) {
    return failedIn.get(w);
  }

  long unknown(int w) {
    return unknownIn.get(w);
  }

  long acked(int w) {
    return ackedIn.get(w);
  }

  long totalFailed() {
    return sum(failedIn);
  }

  long totalUnknown() {
    return sum(unknownIn);
  }

  long totalAcked() {
    return sum(ackedIn);
  }

  long stuckEpisodes() {
    return episodeCount.get();
  }

  List<Episode> episodes() {
    synchronized (episodes) {
      return List.copyOf(episodes);
    }
  }

  private static long sum(AtomicLongArray a) {
    long t = 0;
    for (int i = 0; i < a.length(); i++) {
      t += a.get(i);
    }
    return t;
  }
}
