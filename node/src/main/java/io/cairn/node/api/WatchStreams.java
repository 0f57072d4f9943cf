package io.cairn.node.api;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cairn.node.metrics.NodeMetrics;
import io.cairn.node.raft.WatchWindow;
import io.cairn.proto.ErrorDetail;
import io.cairn.proto.WatchRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code Watch} streams from the node's {@link WatchWindow}, with no thread and no buffer
 * per watcher. Each watcher is a cursor (the last index sent) into the shared window; a small named
 * pool ({@code cairn-watch}, {@code watch.threads}) sends to a watcher only while gRPC says its
 * stream {@code isReady()}, so a slow consumer stops the sending for that stream (HTTP/2 flow
 * control) instead of making the node buffer. A watcher that falls behind the window is ended with
 * COMPACTED; at most {@code watch.max.watchers} streams run at once.
 */
final class WatchStreams implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WatchStreams.class);

  /** Entries sent to one watcher per turn, so one fast stream cannot starve the others. */
  private static final int ENTRIES_PER_TURN = 64;

  private final WatchWindow window;
  private final NodeMetrics metrics;
  private final int maxWatchers;
  private final Bounds bounds;
  private final ThreadPoolExecutor pool;
  private final Set<Watcher> watchers = ConcurrentHashMap.newKeySet();
  private final KeyedCaps<String> active;
  private final AtomicBoolean fanoutQueued = new AtomicBoolean();
  private final BooleanSupplier leaderKnown;
  private final long leaderlessLimitNanos;
  private final Thread leaderCheck;
  private volatile long leaderlessSinceNanos = -1;
  private volatile boolean cutOff;
  private volatile boolean closed;

  /**
   * What one node lets Watch hold.
   *
   * @param maxWatchers open streams in all
   * @param maxPerPrincipal open streams of one client principal
   * @param maxAheadEntries how far past this node's newest entry a {@code from_index} may point:
   *     far enough for a client resuming on a lagging follower, not for one parking a stream on an
   *     index no log will reach
   */
  record Bounds(int maxWatchers, int maxPerPrincipal, long maxAheadEntries) {}

  /**
   * @param leaderKnown whether this node knows a leader now
   * @param leaderlessLimitMillis how long without a leader before this node ends its streams: an
   *     isolated node applies nothing new, and its watchers are better served elsewhere
   */
  WatchStreams(
      WatchWindow window,
      NodeMetrics metrics,
      Bounds bounds,
      int threads,
      BooleanSupplier leaderKnown,
      long leaderlessLimitMillis) {
    this.window = window;
    this.metrics = metrics;
    this.bounds = bounds;
    this.maxWatchers = bounds.maxWatchers();
    this.active = new KeyedCaps<>(bounds.maxWatchers(), bounds.maxPerPrincipal());
    this.leaderKnown = leaderKnown;
    this.leaderlessLimitNanos = TimeUnit.MILLISECONDS.toNanos(leaderlessLimitMillis);
    // Each watcher has at most one task queued or running (its 'scheduled' flag), plus one
    // fan-out task: this queue bound can never be reached while the pool runs.
    this.pool = ApiServer.boundedPool("cairn-watch", threads, maxWatchers + 16);
    this.pool.setRejectedExecutionHandler(new ThreadPoolExecutor.AbortPolicy());
    window.onAppend(this::entryApplied);
    metrics.gauge("cairn.watch.watchers", "Open Watch streams", active, KeyedCaps::total);
    metrics.gauge("cairn.watch.watchers.limit", "Bound of open Watch streams", () -> maxWatchers);
    metrics.gauge(
        "cairn.watch.window.entries", "Ledger entries held for Watch", window, WatchWindow::size);
    metrics.gauge("cairn.watch.window.bytes", "Bytes held for Watch", window, WatchWindow::bytes);
    metrics.gauge(
        "cairn.watch.window.oldest.index",
        "Lowest from_index Watch can serve",
        window,
        WatchWindow::oldestAvailable);
    metrics.gauge(
        "cairn.watch.behind.max.entries",
        "Largest distance in log index between the newest entry and a watcher's cursor",
        this,
        WatchStreams::maxBehind);
    this.leaderCheck = new Thread(this::checkLeaderEvery500Millis, "cairn-watch-leader-check");
    leaderCheck.setDaemon(true);
    leaderCheck.start();
  }

  private void checkLeaderEvery500Millis() {
    while (!closed) {
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        return; // close()
      }
      try {
        checkLeader();
      } catch (RuntimeException e) {
        LOG.warn("watch leader check failed; trying again in 500 ms", e);
      }
    }
  }

  /**
   * A node cut off from the leader (partitioned, or the cluster lost its majority) applies nothing
   * new, and a watcher on it cannot tell that from a quiet ledger. Past the limit, end every stream
   * with UNAVAILABLE and refuse new ones, so clients resume on a node that has a leader.
   */
  private void checkLeader() {
    long now = System.nanoTime();
    if (leaderKnown.getAsBoolean()) {
      leaderlessSinceNanos = -1;
      cutOff = false;
      return;
    }
    if (leaderlessSinceNanos < 0) {
      leaderlessSinceNanos = now;
    }
    if (now - leaderlessSinceNanos >= leaderlessLimitNanos) {
      if (!cutOff && !watchers.isEmpty()) {
        LOG.warn(
            "no leader for {} ms: ending {} watch streams and refusing new ones until one is known",
            TimeUnit.NANOSECONDS.toMillis(now - leaderlessSinceNanos),
            watchers.size());
      }
      cutOff = true;
      for (Watcher w : watchers) {
        w.end(leaderless());
      }
    }
  }

  private static StatusRuntimeException leaderless() {
    return ApiErrors.unavailable(
        ErrorDetail.Kind.NO_LEADER,
        "this node has known no leader for a while and may be cut off; resume the watch elsewhere",
        true);
  }

  /**
   * Serves one stream; {@code rawRequest} is a WatchRequest, replies are encoded WatchResponses.
   */
  void watch(byte[] rawRequest, StreamObserver<byte[]> out) {
    ServerCallStreamObserver<byte[]> call = (ServerCallStreamObserver<byte[]>) out;
    WatchRequest request;
    try {
      request = WatchRequest.parseFrom(rawRequest);
    } catch (InvalidProtocolBufferException e) {
      metrics.rejection("invalid");
      out.onError(ApiErrors.invalid("request", "malformed WatchRequest: " + e.getMessage()));
      return;
    }
    if (request.getFromIndex() < 0) {
      // uint64 above 2^63 - 1: no log gets there; refuse rather than wrap around.
      metrics.rejection("invalid");
      out.onError(
          ApiErrors.invalid(
              "from_index", Long.toUnsignedString(request.getFromIndex()) + " is out of range"));
      return;
    }
    if (!window.enabled()) {
      out.onError(
          Status.FAILED_PRECONDITION
              .withDescription("watch is switched off on this node (watch.enabled=0)")
              .asRuntimeException());
      return;
    }
    if (closed) {
      out.onError(stopping());
      return;
    }
    if (cutOff) {
      out.onError(leaderless());
      return;
    }
    long from = request.getFromIndex();
    long newest = window.lastIndex();
    if (from > newest + 1 + bounds.maxAheadEntries()) {
      metrics.rejection("invalid");
      out.onError(
          Status.OUT_OF_RANGE
              .withDescription(
                  "from_index "
                      + from
                      + " is more than watch.max.ahead.entries ("
                      + bounds.maxAheadEntries()
                      + ") past this node's newest entry "
                      + newest)
              .asRuntimeException());
      return;
    }
    String principal = Principals.current();
    StatusRuntimeException full = admit(principal);
    if (full != null) {
      metrics.rejection("overloaded");
      out.onError(full);
      return;
    }
    long cursor = from == 0 ? newest : from - 1;
    if (cursor + 1 < window.oldestAvailable()) {
      release(principal);
      metrics.watchCompacted();
      out.onError(ApiErrors.compacted(from, window.oldestAvailable()));
      return;
    }
    Watcher w = new Watcher(call, cursor, principal);
    // Both handlers must be set before this method returns (gRPC's rule).
    call.setOnCancelHandler(() -> w.end(null));
    call.setOnReadyHandler(() -> schedule(w));
    watchers.add(w);
    schedule(w);
  }

  /** Counts a new stream against both limits; null when admitted, else the refusal. */
  private StatusRuntimeException admit(String principal) {
    KeyedCaps.Refusal r = active.tryAcquire(principal);
    if (r == null) {
      return null;
    }
    return r == KeyedCaps.Refusal.TOTAL
        ? ApiErrors.overloaded("the watcher limit (watch.max.watchers=" + maxWatchers + ")", 1000)
        : ApiErrors.overloaded(
            "the watcher limit per client (watch.max.watchers.per.principal="
                + bounds.maxPerPrincipal()
                + ") for "
                + (principal.isEmpty() ? "this client" : principal),
            1000);
  }

  private void release(String principal) {
    active.release(principal);
  }

  private void entryApplied() {
    // Runs on the apply thread: only queue one fan-out, never send from here.
    if (watchers.isEmpty() || !fanoutQueued.compareAndSet(false, true)) {
      return;
    }
    try {
      pool.execute(
          () -> {
            fanoutQueued.set(false);
            long last = window.lastIndex();
            for (Watcher w : watchers) {
              if (w.cursor < last) {
                schedule(w);
              }
            }
          });
    } catch (RejectedExecutionException e) {
      fanoutQueued.set(false); // pool shut down: the node is stopping
    }
  }

  private void schedule(Watcher w) {
    if (w.done || !w.scheduled.compareAndSet(false, true)) {
      return;
    }
    try {
      pool.execute(() -> run(w));
    } catch (RejectedExecutionException e) {
      w.scheduled.set(false);
      w.end(stopping());
    }
  }

  private void run(Watcher w) {
    try {
      send(w);
    } catch (RuntimeException e) {
      // onNext on a cancelled stream throws; anything else is a bug worth the client's eyes.
      w.end(Status.INTERNAL.withDescription("watch: " + e).asRuntimeException());
    } finally {
      w.scheduled.set(false);
    }
    // An entry or an onReady that arrived while this turn ran found 'scheduled' set: look again.
    if (!w.done && w.call.isReady() && window.lastIndex() > w.cursor) {
      schedule(w);
    }
  }

  private void send(Watcher w) {
    synchronized (w) {
      int sent = 0;
      while (!w.done && sent < ENTRIES_PER_TURN && w.call.isReady()) {
        WatchWindow.Slice slice = window.after(w.cursor, Math.min(16, ENTRIES_PER_TURN - sent));
        if (slice.compacted()) {
          metrics.watchCompacted();
          w.end(ApiErrors.compacted(w.cursor + 1, slice.oldestAvailable()));
          return;
        }
        if (slice.entries().isEmpty()) {
          return;
        }
        for (WatchWindow.Entry e : slice.entries()) {
          w.call.onNext(e.encoded());
          w.cursor = e.index();
          metrics.watchEntrySent(e.events());
          sent++;
        }
      }
    }
  }

  private double maxBehind() {
    long last = window.lastIndex();
    long max = 0;
    for (Watcher w : watchers) {
      max = Math.max(max, last - w.cursor);
    }
    return max;
  }

  private static StatusRuntimeException stopping() {
    return ApiErrors.unavailable(
        ErrorDetail.Kind.NOT_READY, "node is stopping; resume the watch elsewhere", true);
  }

  /** Ends every stream with UNAVAILABLE (so clients resume elsewhere) and stops the pool. */
  @Override
  public void close() {
    closed = true;
    leaderCheck.interrupt();
    for (Watcher w : watchers) {
      w.end(stopping());
    }
    pool.shutdown();
    try {
      if (!pool.awaitTermination(2, TimeUnit.SECONDS)) {
        pool.shutdownNow();
      }
    } catch (InterruptedException e) {
      pool.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** One open stream: where it is in the window, and whether a send turn is queued. */
  private final class Watcher {
    final ServerCallStreamObserver<byte[]> call;
    final AtomicBoolean scheduled = new AtomicBoolean();
    final String principal;
    volatile long cursor;
    volatile boolean done;

    Watcher(ServerCallStreamObserver<byte[]> call, long cursor, String principal) {
      this.call = call;
      this.cursor = cursor;
      this.principal = principal;
    }

    /** Ends the stream once: with {@code error}, or silently when the client cancelled (null). */
    void end(StatusRuntimeException error) {
      synchronized (this) {
        if (done) {
          return;
        }
        done = true;
        if (error != null && !call.isCancelled()) {
          try {
            call.onError(error);
          } catch (RuntimeException ignored) {
            // The stream closed meanwhile; nothing is left to tell.
          }
        }
      }
      watchers.remove(this);
      release(principal);
    }
  }
}
