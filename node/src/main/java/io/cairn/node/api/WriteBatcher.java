package io.cairn.node.api;

import io.cairn.node.config.HotSettings;
import io.cairn.node.metrics.NodeMetrics;
import io.cairn.node.raft.EntryResults;
import io.cairn.node.raft.LedgerCommand;
import io.cairn.node.raft.RaftNode;
import io.cairn.node.raft.WriteFailure;
import io.cairn.proto.ErrorDetail;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.SubmitResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Groups concurrent Submit requests on the leader into one Raft log entry (group commit).
 *
 * <p>One thread takes the first waiting request, then waits for a free pipeline slot (at most
 * {@code maxInflightEntries} entries in Raft at once); while it waits, more requests queue up, so
 * batches grow with load without a fixed linger. It then drains up to {@code maxOps} operations and
 * {@code maxBytes} bytes into one entry. Each request still gets its own response. Every stage is
 * bounded: the queue refuses when full (the API answers RESOURCE_EXHAUSTED).
 *
 * <p>Each request travels as the bytes the client sent plus the message parsed from them once on
 * arrival: the bytes go into the entry unchanged ({@link LedgerCommand}), and the results come back
 * in-process ({@link EntryResults}), so nothing is encoded or parsed again on the leader.
 */
final class WriteBatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WriteBatcher.class);

  record Pending(
      SubmitRequest request,
      byte[] raw,
      String principal,
      long queuedNanos,
      CompletableFuture<SubmitResponse> future) {
    int bytes() {
      return raw.length;
    }
  }

  /** Counters for metrics and benchmarks. */
  record Stats(long entries, long requests, long operations) {}

  private final RaftNode raft;
  private final NodeMetrics metrics;
  private final ArrayBlockingQueue<Pending> queue;
  private final Semaphore inflight;
  private final HotSettings hot;
  private final long maxBytes;
  private final java.util.function.LongSupplier clock;
  private final String bootstrapAdmin;
  private final Thread thread;
  private final java.util.concurrent.Executor completions;
  private final AtomicLong entries = new AtomicLong();
  private final AtomicLong requestCount = new AtomicLong();
  private final AtomicLong operations = new AtomicLong();
  private volatile boolean closed;

  WriteBatcher(
      RaftNode raft,
      NodeMetrics metrics,
      int maxPending,
      int maxInflightEntries,
      HotSettings hot,
      long maxBytes,
      java.util.function.LongSupplier clock,
      String bootstrapAdmin,
      java.util.concurrent.Executor completions) {
    this.completions = completions;
    this.bootstrapAdmin = bootstrapAdmin;
    this.clock = clock;
    this.raft = raft;
    this.metrics = metrics;
    this.queue = new ArrayBlockingQueue<>(maxPending);
    this.inflight = new Semaphore(maxInflightEntries);
    this.hot = hot;
    this.maxBytes = maxBytes;
    this.thread = new Thread(this::run, "cairn-batcher");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /**
   * Queues a request parsed from {@code raw} (exactly the bytes it was parsed from) that {@code
   * principal} submitted; returns null when the queue is full or the batcher is closed.
   */
  CompletableFuture<SubmitResponse> offer(SubmitRequest request, byte[] raw, String principal) {
    if (closed) {
      return null;
    }
    Pending p = new Pending(request, raw, principal, System.nanoTime(), new CompletableFuture<>());
    return queue.offer(p) ? p.future() : null;
  }

  /**
   * Takes a request whose caller cancelled out of the queue, if it is still there (not yet in an
   * entry): it is then never appended, and its future fails with a cancellation. Returns whether it
   * was withdrawn. A scan of the bounded queue, on cancellation only.
   */
  boolean withdraw(CompletableFuture<SubmitResponse> future) {
    boolean removed = queue.removeIf(p -> p.future() == future);
    if (removed) {
      future.completeExceptionally(
          new java.util.concurrent.CancellationException("cancelled by the caller while queued"));
    }
    return removed;
  }

  int queued() {
    return queue.size();
  }

  int queueLimit() {
    return queue.size() + queue.remainingCapacity();
  }

  int inflightEntries(int limit) {
    return limit - inflight.availablePermits();
  }

  Stats stats() {
    return new Stats(entries.get(), requestCount.get(), operations.get());
  }

  private void run() {
    while (!closed) {
      try {
        Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        boolean idle = inflight.availablePermits() > 0;
        while (!inflight.tryAcquire(100, TimeUnit.MILLISECONDS)) {
          if (closed) {
            fail(List.of(first), new WriteFailure(ErrorDetail.Kind.NOT_READY, "", true, "closing"));
            return;
          }
        }
        long lingerMicros = hot.get("batch.linger.micros");
        if (idle && lingerMicros > 0) {
          linger(first.request().getOperationsCount(), lingerMicros);
        }
        List<Pending> batch = drain(first);
        submit(batch);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        // Never let the batcher thread die: that would strand every later write.
        LOG.error("batcher loop failed; continuing", e);
      }
    }
  }

  private void linger(int opsSoFar, long lingerMicros) {
    int maxOps = hot.getInt("batch.max.ops");
    long deadline = System.nanoTime() + TimeUnit.MICROSECONDS.toNanos(lingerMicros);
    while (opsSoFar + queue.size() < maxOps && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(100_000);
    }
  }

  private List<Pending> drain(Pending first) {
    int maxOps = hot.getInt("batch.max.ops");
    List<Pending> batch = new ArrayList<>();
    batch.add(first);
    int ops = first.request().getOperationsCount();
    long bytes = first.bytes();
    while (true) {
      Pending next = queue.peek();
      if (next == null
          || ops + next.request().getOperationsCount() > maxOps
          || bytes + next.bytes() > maxBytes) {
        return batch;
      }
      batch.add(queue.poll());
      ops += next.request().getOperationsCount();
      bytes += next.bytes();
    }
  }

  private void submit(List<Pending> batch) {
    // The one clock read in Cairn's semantics: ledger time for the dedupe window (the leader's
    // wall clock, unless a majority of the cluster says it is off: ClusterClock).
    long leaderTime = clock.getAsLong();
    if (leaderTime == ClusterClock.UNDECIDED) {
      inflight.release();
      fail(
          batch,
          new WriteFailure(
              ErrorDetail.Kind.NOT_READY,
              "",
              true,
              "this node cannot tell whether its clock is right (too few peers answered)"));
      return;
    }
    List<SubmitRequest> requests = new ArrayList<>(batch.size());
    List<byte[]> raw = new ArrayList<>(batch.size());
    List<String> principals = new ArrayList<>(batch.size());
    int ops = 0;
    long now = System.nanoTime();
    for (Pending p : batch) {
      metrics.admissionWait().record(now - p.queuedNanos(), TimeUnit.NANOSECONDS);
      requests.add(p.request());
      raw.add(p.raw());
      principals.add(p.principal());
      ops += p.request().getOperationsCount();
    }
    entries.incrementAndGet();
    requestCount.addAndGet(batch.size());
    operations.addAndGet(ops);
    metrics.batch(batch.size(), ops);
    long started = System.nanoTime();
    CompletableFuture<EntryResults> reply;
    try {
      reply = raft.submit(LedgerCommand.of(leaderTime, requests, raw, principals, bootstrapAdmin));
    } catch (RuntimeException e) {
      inflight.release();
      fail(batch, new WriteFailure(ErrorDetail.Kind.OUTCOME_UNKNOWN, "", false, e.toString()));
      return;
    }
    reply.whenComplete(
        (results, err) -> {
          inflight.release();
          metrics.commitLatency().record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
          // One hop per entry, off the Ratis thread that completed it: the requests' replies
          // are then sent from that one task (see Responders).
          completions.execute(
              () -> {
                if (err != null) {
                  fail(batch, WriteFailure.of(err));
                } else {
                  dispatch(batch, results);
                }
              });
        });
  }

  private static void dispatch(List<Pending> batch, EntryResults results) {
    if (results.requests() != batch.size()) {
      // Cannot happen unless the state machine is broken; say so instead of guessing.
      LOG.error("entry has results for {} of {} requests", results.requests(), batch.size());
      fail(batch, new WriteFailure(ErrorDetail.Kind.OUTCOME_UNKNOWN, "", false, "reply mismatch"));
      return;
    }
    for (int i = 0; i < batch.size(); i++) {
      batch.get(i).future().complete(results.response(i));
    }
  }

  private static void fail(List<Pending> batch, WriteFailure failure) {
    for (Pending p : batch) {
      p.future().completeExceptionally(failure);
    }
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<Pending> left = new ArrayList<>();
    queue.drainTo(left);
    fail(left, new WriteFailure(ErrorDetail.Kind.NOT_READY, "", true, "node is stopping"));
  }
}
