package io.cairn.client;

import io.cairn.client.internal.Caller;
import io.cairn.proto.ErrorDetail;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.WatchRequest;
import io.cairn.proto.WatchResponse;
import io.cairn.proto.errors.Errors;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A stream of committed ledger entries ({@link WatchResponse}: log index, and per operation the
 * operation, its result and the accounts it changed), from {@link CairnClient#subscribe(long)}.
 * Only committed, applied entries are sent, so every node would send the same ones.
 *
 * <p>Guarantees: entries arrive in log order, each exactly once, with no gap. Every entry's {@code
 * prev_index} is checked against the index of the entry before it; if a node ever breaks that chain
 * the subscription fails ({@code DATA_LOSS}) rather than deliver a gap. When the node serving the
 * stream fails or stops, the subscription resumes on the next endpoint from the entry after the
 * last one received; it gives up (retryable {@link CairnException}) when no node can be reached for
 * the client's total timeout. When the entries it needs are older than what every node still holds,
 * it fails with {@link CompactedException}.
 *
 * <p>Failures end the subscription for good and are thrown by {@link #poll} once the entries
 * received before them have been returned: {@link CompactedException} (final) as above; a retryable
 * {@link CairnException} when no node could be reached; a final one for DATA_LOSS (a broken chain),
 * a node refusing the stream (for example FAILED_PRECONDITION when it runs with {@code
 * watch.enabled=0}) or the client being closed (CANCELLED). To go on after any of them, subscribe
 * again from {@link #lastDeliveredIndex()} + 1.
 *
 * <p>Flow control: at most {@code bufferEntries} entries are requested from the node and not yet
 * taken by {@link #poll}; a consumer that stops polling pauses the node's sending. Thread-safe;
 * {@link #close()} wakes every thread blocked in {@link #poll}.
 */
public final class Subscription implements AutoCloseable {
  private static final Object END = new Object();
  private static final long BACKOFF_BASE_MILLIS = 50;
  private static final long BACKOFF_MAX_MILLIS = 1000;

  /** A stream that lived this long is a success: later failures start a fresh resume budget. */
  private static final long HEALTHY_STREAM_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final Caller caller;
  private final ScheduledExecutorService timer;
  private final Consumer<Subscription> onClose;
  private final int capacity;
  private final long resumeTimeoutNanos;
  // Items: WatchResponse, then END once the subscription ends. Capacity + 2: END always fits.
  private final ArrayBlockingQueue<Object> queue;

  // Guarded by this.
  private long nextFrom;
  private long lastReceived; // 0: none received yet
  private ClientCallStreamObserver<WatchRequest> current;
  private int generation;
  private int outstanding;
  private int endpointIndex;
  private int failuresInRow;
  private long streamStartedNanos;
  private long failingSinceNanos = -1;
  private final Map<String, Long> compactedBy = new HashMap<>();
  private CairnException failure;
  private boolean closed;

  private volatile long lastDelivered;

  Subscription(
      Caller caller,
      ScheduledExecutorService timer,
      long fromIndex,
      int bufferEntries,
      long resumeTimeoutMillis,
      Consumer<Subscription> onClose) {
    if (fromIndex < 1) {
      throw new IllegalArgumentException("fromIndex must be >= 1");
    }
    if (bufferEntries < 1) {
      throw new IllegalArgumentException("bufferEntries must be >= 1");
    }
    this.caller = caller;
    this.timer = timer;
    this.onClose = onClose;
    this.capacity = bufferEntries;
    this.resumeTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(resumeTimeoutMillis);
    this.queue = new ArrayBlockingQueue<>(bufferEntries + 2);
    this.nextFrom = fromIndex;
  }

  synchronized void start() {
    connect();
  }

  /**
   * The next entry, waiting at most {@code timeout} (a negative one is zero); null when none
   * arrived in time, which is not a failure: the stream may simply be quiet. Entries received
   * before a failure are still returned first; once the subscription has ended every call throws
   * the same way.
   *
   * @throws CompactedException the entries needed are no longer held by any node asked
   * @throws CairnException the subscription failed (see {@link CairnException#isRetryable()}), was
   *     closed ({@code CANCELLED}), or the thread was interrupted ({@code CANCELLED}, with the
   *     thread's interrupt status set; the subscription itself goes on)
   */
  public WatchResponse poll(Duration timeout) {
    Object item;
    try {
      item = queue.poll(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CairnException(Status.Code.CANCELLED, null, false, "interrupted", e);
    }
    if (item == null) {
      return null;
    }
    if (item == END) {
      queue.offer(END); // wake the next poller too
      throw terminal();
    }
    WatchResponse entry = (WatchResponse) item;
    lastDelivered = entry.getIndex();
    synchronized (this) {
      topUp();
    }
    return entry;
  }

  /**
   * The log index of the last entry {@link #poll} returned (0 before the first): subscribe again
   * from the index after it to continue without a gap or a duplicate.
   */
  public long lastDeliveredIndex() {
    return lastDelivered;
  }

  /** True once the subscription was closed or failed; entries already received may remain. */
  public synchronized boolean isDone() {
    return closed || failure != null;
  }

  /**
   * Stops the stream, drops buffered entries and wakes every thread blocked in {@link #poll}, which
   * then throws CANCELLED; idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      cancelCurrent("subscription closed");
      queue.clear();
      queue.offer(END);
    }
    onClose.accept(this);
  }

  private synchronized CairnException terminal() {
    if (closed) {
      return new CairnException(Status.Code.CANCELLED, null, false, "subscription closed", failure);
    }
    return failure;
  }

  // ---- the network side; every method below runs under this object's monitor ----

  private void connect() {
    if (closed || failure != null) {
      return;
    }
    List<String> endpoints = caller.endpoints();
    String endpoint = endpoints.get(Math.floorMod(endpointIndex, endpoints.size()));
    int gen = ++generation;
    outstanding = 0;
    streamStartedNanos = System.nanoTime();
    WatchRequest request = WatchRequest.newBuilder().setFromIndex(nextFrom).build();
    try {
      LedgerServiceGrpc.newStub(caller.channel(endpoint))
          .watch(request, new Observer(gen, endpoint));
    } catch (RuntimeException e) {
      streamFailed(gen, endpoint, Status.fromThrowable(e), null);
      return;
    }
    topUp();
  }

  /** Requests as many entries as free buffer slots not already asked for. */
  private void topUp() {
    if (current == null || closed || failure != null) {
      return;
    }
    int want = capacity - queue.size() - outstanding;
    if (want > 0) {
      outstanding += want;
      current.request(want);
    }
  }

  private void received(int gen, String endpoint, WatchResponse entry) {
    if (gen != generation || closed || failure != null) {
      return;
    }
    outstanding--;
    long index = entry.getIndex();
    long prev = entry.getPrevIndex();
    boolean linked =
        index >= nextFrom && (lastReceived == 0 ? prev < nextFrom : prev == lastReceived);
    if (!linked) {
      fail(
          new CairnException(
              Status.Code.DATA_LOSS,
              null,
              false,
              "watch: entry "
                  + index
                  + " (prev_index "
                  + prev
                  + ") from "
                  + endpoint
                  + " does not follow "
                  + (lastReceived == 0 ? "the start index " + nextFrom : "entry " + lastReceived)
                  + "; failing rather than delivering a gap",
              null));
      return;
    }
    lastReceived = index;
    nextFrom = index + 1;
    failuresInRow = 0;
    failingSinceNanos = -1;
    compactedBy.clear();
    if (!queue.offer(entry)) {
      // Cannot happen while request() credits match free slots; never drop silently.
      fail(new CairnException(Status.Code.INTERNAL, null, false, "watch buffer overrun", null));
    }
  }

  private void streamFailed(int gen, String endpoint, Status status, ErrorDetail detail) {
    if (gen != generation || closed || failure != null) {
      return;
    }
    current = null;
    long now = System.nanoTime();
    if (detail != null && detail.getKind() == ErrorDetail.Kind.COMPACTED) {
      compactedAt(endpoint, detail);
      return;
    }
    Status.Code code = status.getCode();
    boolean retryable =
        switch (code) {
          case UNAVAILABLE,
              RESOURCE_EXHAUSTED,
              DEADLINE_EXCEEDED,
              ABORTED,
              CANCELLED,
              INTERNAL,
              UNKNOWN,
              OK ->
              true;
          default -> false;
        };
    String message =
        "watch at "
            + endpoint
            + ": "
            + code
            + (status.getDescription() == null ? "" : ": " + status.getDescription());
    if (!retryable) {
      fail(new CairnException(code, detail, false, message, status.getCause()));
      return;
    }
    if (failingSinceNanos < 0 || now - streamStartedNanos >= HEALTHY_STREAM_NANOS) {
      failingSinceNanos = now;
      failuresInRow = 0;
    }
    if (now - failingSinceNanos > resumeTimeoutNanos) {
      fail(new CairnException(code, detail, true, message + " (no node reachable; gave up)", null));
      return;
    }
    failuresInRow++;
    endpointIndex++;
    long cap = Math.min(BACKOFF_MAX_MILLIS, BACKOFF_BASE_MILLIS << Math.min(10, failuresInRow));
    long delay = ThreadLocalRandom.current().nextLong(cap + 1);
    if (detail != null && detail.getRetryAfterMillis() > 0) {
      delay = Math.max(delay, detail.getRetryAfterMillis());
    }
    try {
      timer.schedule(
          () -> {
            synchronized (this) {
              connect();
            }
          },
          delay,
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      fail(new CairnException(Status.Code.CANCELLED, null, false, "client is closed", e));
    }
  }

  /** A node no longer holds the entries asked for: ask the next, or end once every one said so. */
  private void compactedAt(String endpoint, ErrorDetail detail) {
    compactedBy.put(endpoint, detail.getOldestAvailableIndex());
    if (compactedBy.size() >= caller.endpoints().size()) {
      long oldest = compactedBy.values().stream().mapToLong(Long::longValue).max().orElse(0);
      fail(
          new CompactedException(
              nextFrom,
              oldest,
              "watch: entries from index "
                  + nextFrom
                  + " are compacted on every node asked "
                  + compactedBy
                  + " (the oldest available is "
                  + oldest
                  + ")"));
      return;
    }
    endpointIndex++;
    connect(); // another node may hold more: ask it at once
  }

  private void fail(CairnException error) {
    failure = error;
    cancelCurrent(error.getMessage());
    queue.offer(END);
  }

  private void cancelCurrent(String why) {
    if (current != null) {
      ClientCallStreamObserver<WatchRequest> c = current;
      current = null;
      generation++;
      c.cancel(why, null);
    }
  }

  /** Callbacks of one stream; stale ones (an older generation) are ignored. */
  private final class Observer implements ClientResponseObserver<WatchRequest, WatchResponse> {
    private final int gen;
    private final String endpoint;

    Observer(int gen, String endpoint) {
      this.gen = gen;
      this.endpoint = endpoint;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<WatchRequest> stream) {
      stream.disableAutoRequestWithInitial(0);
      synchronized (Subscription.this) {
        if (gen == generation) {
          current = stream;
        }
      }
    }

    @Override
    public void onNext(WatchResponse value) {
      synchronized (Subscription.this) {
        received(gen, endpoint, value);
      }
    }

    @Override
    public void onError(Throwable t) {
      ErrorDetail detail = Errors.detailOf(t);
      synchronized (Subscription.this) {
        streamFailed(gen, endpoint, Status.fromThrowable(t), detail);
      }
    }

    @Override
    public void onCompleted() {
      synchronized (Subscription.this) {
        streamFailed(
            gen, endpoint, Status.UNAVAILABLE.withDescription("stream ended by the node"), null);
      }
    }
  }
}
