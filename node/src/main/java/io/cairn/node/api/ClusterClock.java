package io.cairn.node.api;

import io.cairn.node.metrics.NodeMetrics;
import io.cairn.proto.ClusterStatusRequest;
import io.cairn.proto.ClusterStatusResponse;
import io.cairn.proto.LedgerServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The time a leader stamps into log entries: its wall clock, unless a majority of the cluster
 * agrees that it is off.
 *
 * <p>Ledger time is {@code max(previous, stamp)} on every replica, so one leader whose clock jumps
 * forward (an NTP step, a VM resume, a wrong clock after a restart) would move it for good: every
 * honest client's {@code created_at} would then look older than the dedupe window ({@code EXPIRED})
 * until real time caught up. So every node compares its clock with its peers' once a second ({@code
 * ClusterStatus.wall_clock_millis}, against the middle of the round trip), with {@code
 * ledger.max.clock.skew.millis} / 2 as the tolerance:
 *
 * <ul>
 *   <li>a majority of the members, this node included, within the tolerance of this node's clock:
 *       the clock is used as it is;
 *   <li>else a majority of the members, peers only, within the tolerance of their median offset:
 *       this node stamps its clock plus that median (logged, and exported as {@code
 *       cairn.clock.correction.millis});
 *   <li>else (peers slow or gone, or one peer alone disagreeing) the check does not decide and the
 *       last decision stands. Before the first decision after start, a leader stamps nothing: its
 *       writes are refused as NOT_READY.
 * </ul>
 *
 * <p>Between checks the stamp is the last check's time carried forward by the monotonic clock
 * whenever the wall clock has moved more than the tolerance against it, so a jump between two
 * checks does not reach a stamp either. The stamp is the leader's estimate only: replicas never
 * read a clock, so determinism does not depend on any of this.
 */
final class ClusterClock implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterClock.class);
  static final long CHECK_MILLIS = 1000;
  static final long FRESH_MILLIS = 5000;
  static final long CALL_DEADLINE_MILLIS = 500;
  private static final long FRESH_NANOS = TimeUnit.MILLISECONDS.toNanos(FRESH_MILLIS);

  /**
   * A peer's clock as of {@code atNanos} (monotonic). Not kept as an offset from this node's clock:
   * if this clock jumps, offsets taken before the jump would still say it agrees with its peers.
   */
  record Sample(long peerMillis, long atNanos) {}

  /** This node's clock at a check, its correction then, and when that was (monotonic). */
  private record Base(long wallMillis, long correctionMillis, long atNanos) {}

  private final LongSupplier debugOffsetMillis;
  private final long toleranceMillis;
  private final Supplier<List<String>> peers;
  private final IntSupplier members;
  private final SslContext tls;
  private final Consumer<ClusterStatusResponse> onStatus;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private final Map<String, Sample> samples = new ConcurrentHashMap<>();
  private final ScheduledExecutorService ticker;
  private volatile Base base;
  private final CountDownLatch firstCheck = new CountDownLatch(1);
  private boolean undecidedSaid; // on the checker thread only
  private int offChecks; // consecutive checks that found this clock off; checker thread only
  private final OffListener offListener;

  /** Told, on the checker thread, after every check that found this clock off its majority's. */
  interface OffListener {
    /**
     * @param checks how many checks in a row found it off (this one included)
     * @param correctionMillis what this node adds to its clock to agree with its majority
     * @param agreeing the peers' API endpoints whose clocks agree with that majority
     */
    void clockOff(int checks, long correctionMillis, List<String> agreeing);
  }

  /**
   * @param peers the other members' API endpoints
   * @param members how many voting members the group has (this node included)
   * @param tls this node's client context, or null for plaintext
   * @param onStatus gets every peer's answer too: the one status call per peer and second that
   *     tells this node about its peers (their free space: {@link SpaceWatch})
   */
  ClusterClock(
      LongSupplier debugOffsetMillis,
      long maxClockSkewMillis,
      Supplier<List<String>> peers,
      IntSupplier members,
      SslContext tls,
      Consumer<ClusterStatusResponse> onStatus,
      OffListener offListener,
      NodeMetrics metrics) {
    this.debugOffsetMillis = debugOffsetMillis;
    this.toleranceMillis = Math.max(1, maxClockSkewMillis / 2);
    this.peers = peers;
    this.members = members;
    this.tls = tls;
    this.onStatus = onStatus;
    this.offListener = offListener;
    this.ticker = ApiServer.ticker("cairn-clock");
    metrics.gauge(
        "cairn.clock.correction.millis",
        "How far this node moves its clock to agree with a majority of its peers (0: not at all)",
        () -> correctionMillis());
  }

  /** Starts the checks. */
  void start() {
    ticker.scheduleWithFixedDelay(this::check, 0, CHECK_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** This node's own wall clock, as it reports it to peers (the debug offset included). */
  long localMillis() {
    return System.currentTimeMillis() + debugOffsetMillis.getAsLong();
  }

  /** What {@link #nowMillis} answers until a check has decided. */
  static final long UNDECIDED = Long.MIN_VALUE;

  /**
   * The time to stamp into a log entry now, or {@link #UNDECIDED} until a check has shown a
   * majority of the members, this node included, agreeing on a time. A leader does not stamp before
   * that: its writes are refused as NOT_READY. A check that cannot decide (peers slow or gone, or
   * one peer alone saying this clock is off) keeps the last decision, carried forward by the
   * monotonic clock.
   */
  long nowMillis() {
    Base b = base;
    if (b == null) {
      awaitFirstCheck();
      b = base;
      if (b == null) {
        return UNDECIDED;
      }
    }
    long local = localMillis();
    long elapsed = (System.nanoTime() - b.atNanos) / 1_000_000;
    long expected = b.wallMillis + b.correctionMillis + elapsed;
    long corrected = local + b.correctionMillis;
    // The wall clock moved against the monotonic one since the check: trust the check.
    return Math.abs(corrected - expected) > toleranceMillis ? expected : corrected;
  }

  /** Waits (bounded) for the first check after start, so the first stamps are checked ones. */
  private void awaitFirstCheck() {
    try {
      firstCheck.await(3 * CALL_DEADLINE_MILLIS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  long correctionMillis() {
    Base b = base;
    return b == null ? 0 : b.correctionMillis;
  }

  private void check() {
    try {
      List<String> endpoints = peers.get();
      CountDownLatch answered = new CountDownLatch(endpoints.size());
      for (String endpoint : endpoints) {
        ask(endpoint, answered);
      }
      // Every call has a deadline; this bounds the wait in case one never ends.
      answered.await(2 * CALL_DEADLINE_MILLIS, TimeUnit.MILLISECONDS);
      rebase();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      LOG.warn("clock check failed: {}", e.toString());
    } finally {
      firstCheck.countDown();
    }
  }

  private void ask(String endpoint, CountDownLatch answered) {
    long sentNanos = System.nanoTime();
    LedgerServiceGrpc.newStub(channel(endpoint))
        .withDeadlineAfter(CALL_DEADLINE_MILLIS, TimeUnit.MILLISECONDS)
        .clusterStatus(
            ClusterStatusRequest.getDefaultInstance(),
            new StreamObserver<>() {
              @Override
              public void onNext(ClusterStatusResponse r) {
                onStatus.accept(r);
                if (r.getWallClockMillis() != 0) { // 0: a node from before clocks were reported
                  long now = System.nanoTime();
                  long rttMillis = (now - sentNanos) / 1_000_000;
                  // The peer read its clock about half a round trip ago.
                  samples.put(endpoint, new Sample(r.getWallClockMillis() + rttMillis / 2, now));
                }
              }

              @Override
              public void onError(Throwable t) {
                answered.countDown();
              }

              @Override
              public void onCompleted() {
                answered.countDown();
              }
            });
  }

  /** Recomputes the correction from the fresh samples. */
  private void rebase() {
    long now = System.nanoTime();
    long local = localMillis();
    List<Long> fresh = offsets(samples.values(), now, local);
    long correction = correction(fresh, members.getAsInt(), toleranceMillis);
    Base before = base;
    if (correction == UNDECIDED) {
      if (!undecidedSaid) {
        undecidedSaid = true;
        LOG.warn(
            "clock check undecided: {} of {} peers answered and no majority agrees on a time; {}",
            fresh.size(),
            members.getAsInt() - 1,
            before == null ? "no entries stamped until one does" : "keeping the last decision");
      }
      return;
    }
    undecidedSaid = false;
    long was = before == null ? 0 : before.correctionMillis;
    if (correction != 0 && was == 0) {
      LOG.warn(
          "this node's clock is {} ms off a majority of its peers'; stamping their time",
          -correction);
    } else if (correction == 0 && was != 0) {
      LOG.info("this node's clock agrees with its peers' again");
    }
    base = new Base(local, correction, now);
    offChecks = correction == 0 ? 0 : offChecks + 1;
    if (offChecks > 0) {
      offListener.clockOff(offChecks, correction, agreeing(now, local, correction));
    }
  }

  /** The peers whose fresh samples are within the tolerance of this node's corrected clock. */
  private List<String> agreeing(long nowNanos, long localMillis, long correction) {
    List<String> out = new ArrayList<>();
    samples.forEach(
        (endpoint, s) -> {
          if (fresh(s, nowNanos)
              && Math.abs(offset(s, nowNanos, localMillis) - correction) <= toleranceMillis) {
            out.add(endpoint);
          }
        });
    return out;
  }

  /**
   * Each fresh sample's peer clock carried forward to {@code nowNanos} by the monotonic clock,
   * minus this node's clock now ({@code localMillis}): a jump of this clock shows at once, even in
   * samples taken before it.
   */
  static List<Long> offsets(java.util.Collection<Sample> samples, long nowNanos, long localMillis) {
    List<Long> fresh = new ArrayList<>();
    for (Sample s : samples) {
      if (fresh(s, nowNanos)) {
        fresh.add(offset(s, nowNanos, localMillis));
      }
    }
    return fresh;
  }

  private static boolean fresh(Sample s, long nowNanos) {
    return nowNanos - s.atNanos() < FRESH_NANOS;
  }

  /** The peer's clock carried forward to {@code nowNanos}, minus this node's clock now. */
  private static long offset(Sample s, long nowNanos, long localMillis) {
    return s.peerMillis() + (nowNanos - s.atNanos()) / 1_000_000 - localMillis;
  }

  /**
   * The correction to apply, given the peers' offsets from this node's clock: 0 when at least a
   * majority of {@code members} (this node and the peers within {@code tolerance} of it) agree with
   * this node; the median offset when at least a majority of {@code members}, all peers, agree
   * within {@code tolerance} of it, more than {@code tolerance} away; else {@link #UNDECIDED}.
   */
  static long correction(List<Long> peerOffsets, int members, long tolerance) {
    int majority = members / 2 + 1;
    long withUs = 1 + peerOffsets.stream().filter(o -> Math.abs(o) <= tolerance).count();
    if (withUs >= majority) {
      return 0;
    }
    if (peerOffsets.isEmpty()) {
      return UNDECIDED;
    }
    List<Long> sorted = new ArrayList<>(peerOffsets);
    sorted.sort(null);
    long median = sorted.get((sorted.size() - 1) / 2);
    long agreeing = sorted.stream().filter(o -> Math.abs(o - median) <= tolerance).count();
    return agreeing >= majority ? median : UNDECIDED;
  }

  private ManagedChannel channel(String endpoint) {
    return channels.computeIfAbsent(
        endpoint,
        e -> {
          NettyChannelBuilder b = NettyChannelBuilder.forTarget(e);
          return (tls == null ? b.usePlaintext() : b.sslContext(tls)).build();
        });
  }

  @Override
  public void close() {
    ticker.shutdownNow();
    for (ManagedChannel c : channels.values()) {
      c.shutdownNow();
    }
  }
}
