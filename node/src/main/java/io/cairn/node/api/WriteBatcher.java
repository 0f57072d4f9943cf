package io.cairn.node.api;

import io.cairn.node.config.HotSettings;
import io.cairn.node.metrics.NodeMetrics;
import io.cairn.node.raft.RaftNode;
import io.cairn.proto.ErrorDetail;
import io.cairn.proto.LogEntry;
import io.cairn.proto.LogEntryReply;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.SubmitResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Groups concurrent Submit requests on the leader into one Raft log entry (group commit).
 *
 * <p>One thread takes the first waiting request, then waits for a free pipeline slot (at most
 * {@code maxInflightEntries} entries in Raft at once); while it waits, more requests queue up, so
 * batches grow with load without a fixed linger. It then drains up to {@code maxOps} operations
 * and {@code maxBytes} bytes into one entry. Each request still gets its own response. Every
 * stage is bounded: the queue refuses when full (the API answers RESOURCE_EXHAUSTED).
 */
final class WriteBatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WriteBatcher.class);

  record Pending(
      SubmitRequest request, int bytes, long queuedNanos, CompletableFuture<SubmitResponse> future) {}

  /** Counters for metrics and benchmarks. */
  record Stats(long entries, long requests, long operations) {}

  private final RaftNode raft;
  private final NodeMetrics metrics;
  private final ArrayBlockingQueue<Pending> queue;
  private final Semaphore inflight;
  private final HotSettings hot;
  private final long maxBytes;
  private final long clockOffsetMillis;
  private final Thread thread;
  private final AtomicLong entries = new AtomicLong();
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong operations = new AtomicLong();
  private volatile boolean closed;

  WriteBatcher(
      RaftNode raft,
      NodeMetrics metrics,
      int maxPending,
      int maxInflightEntries,
      HotSettings hot,
      long maxBytes,
      long clockOffsetMillis) {
    this.clockOffsetMillis = clockOffsetMillis;
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

  /** Queues a request; returns null when the queue is full or the batcher is closed. */
  CompletableFuture<SubmitResponse> offer(SubmitRequest request) {
    if (closed) {
      return null;
    }
    Pending p =
        new Pending(
            request, request.getSerializedSize(), System.nanoTime(), new CompletableFuture<>());
    return queue.offer(p) ? p.future() : null;
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
    return new Stats(entries.get(), requests.get(), operations.get());
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
    // The one wall-clock read in Cairn's semantics: ledger time for the dedupe window.
    LogEntry.Builder entry =
        LogEntry.newBuilder().setLeaderTimeMillis(System.currentTimeMillis() + clockOffsetMillis);
    int ops = 0;
    long now = System.nanoTime();
    for (Pending p : batch) {
      metrics.admissionWait().record(now - p.queuedNanos(), TimeUnit.NANOSECONDS);
      entry.addRequests(p.request());
      ops += p.request().getOperationsCount();
    }
    entries.incrementAndGet();
    requests.addAndGet(batch.size());
    operations.addAndGet(ops);
    metrics.batch(batch.size(), ops);
    long started = System.nanoTime();
    CompletableFuture<RaftClientReply> reply;
    try {
      reply = raft.submitWrite(entry.build().toByteArray());
    } catch (RuntimeException e) {
      inflight.release();
      fail(batch, new WriteFailure(ErrorDetail.Kind.OUTCOME_UNKNOWN, "", false, e.toString()));
      return;
    }
    reply.whenComplete(
        (r, err) -> {
          inflight.release();
          metrics.commitLatency().record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
          if (err != null) {
            fail(batch, failureOf(err));
          } else {
            dispatch(batch, r);
          }
        });
  }

  private void dispatch(List<Pending> batch, RaftClientReply reply) {
    if (!reply.isSuccess()) {
      fail(batch, failureOf(reply.getException()));
      return;
    }
    LogEntryReply decoded;
    try {
      decoded = LogEntryReply.parseFrom(reply.getMessage().getContent().asReadOnlyByteBuffer());
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      fail(batch, new WriteFailure(ErrorDetail.Kind.OUTCOME_UNKNOWN, "", false, e.toString()));
      return;
    }
    if (decoded.getResponsesCount() != batch.size()) {
      // Cannot happen unless the state machine is broken; say so instead of guessing.
      LOG.error(
          "reply has {} responses for {} requests", decoded.getResponsesCount(), batch.size());
      fail(batch, new WriteFailure(ErrorDetail.Kind.OUTCOME_UNKNOWN, "", false, "reply mismatch"));
      return;
    }
    for (int i = 0; i < batch.size(); i++) {
      batch.get(i).future().complete(decoded.getResponses(i));
    }
  }

  static WriteFailure failureOf(Throwable t) {
    Throwable cause = t;
    while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof NotLeaderException nle) {
      // The entry may already be in the log of the old leader: only a retry (same ids) can tell.
      String leader =
          nle.getSuggestedLeader() == null ? "" : nle.getSuggestedLeader().getId().toString();
      return new WriteFailure(ErrorDetail.Kind.NOT_LEADER, leader, false, "leader changed");
    }
    if (cause instanceof LeaderNotReadyException) {
      return new WriteFailure(ErrorDetail.Kind.NO_LEADER, "", true, "leader not ready yet");
    }
    if (cause instanceof ResourceUnavailableException) {
      return new WriteFailure(ErrorDetail.Kind.OVERLOADED, "", true, "raft write queue full");
    }
    return new WriteFailure(
        ErrorDetail.Kind.OUTCOME_UNKNOWN,
        "",
        false,
        cause == null ? "unknown failure" : cause.toString());
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
