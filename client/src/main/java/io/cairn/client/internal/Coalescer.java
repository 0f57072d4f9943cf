package io.cairn.client.internal;

import io.cairn.client.CairnException;
import io.cairn.client.OutcomeUnknownException;
import io.cairn.proto.Operation;
import io.cairn.proto.OperationResult;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.SubmitResponse;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * Groups single operations submitted concurrently by many application threads into one Submit
 * request, as TigerBeetle's clients do: each caller still gets its own result or error. One thread
 * takes the first waiting operation, waits for a free request slot (at most {@code maxInflight}
 * requests on the wire), and meanwhile more operations queue up, so requests grow with load.
 * Bounded everywhere: a full queue refuses at once.
 *
 * <p>Then it lingers while operations are still arriving: it sends once no new operation came for
 * {@code lingerQuiet}, or after {@code lingerMax}, or when the request is full. This is for the
 * callers woken by the previous reply: they come back one by one over a millisecond or so, and
 * without the linger the first of them would leave alone, splitting the callers into two cohorts
 * that wait for each other's round trips. An idle caller pays one quiet period.
 */
public final class Coalescer implements AutoCloseable {
  private record Pending(Operation op, int bytes, CompletableFuture<OperationResult> future) {}

  private final Function<SubmitRequest, CompletableFuture<SubmitResponse>> send;
  private final ArrayBlockingQueue<Pending> queue;
  private final Semaphore inflight;
  private final int maxOps;
  private final long maxBytes;
  private final long lingerQuietNanos;
  private final long lingerMaxNanos;
  private final Thread thread;
  private volatile boolean closed;

  public Coalescer(
      Function<SubmitRequest, CompletableFuture<SubmitResponse>> send,
      int maxQueued,
      int maxInflight,
      int maxOps,
      long maxBytes,
      Duration lingerQuiet,
      Duration lingerMax) {
    this.send = send;
    this.lingerQuietNanos = lingerQuiet.toNanos();
    this.lingerMaxNanos = lingerMax.toNanos();
    this.queue = new ArrayBlockingQueue<>(maxQueued);
    this.inflight = new Semaphore(maxInflight);
    this.maxOps = maxOps;
    this.maxBytes = maxBytes;
    this.thread = new Thread(this::run, "cairn-client-coalescer");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /** Queues one (already validated) operation; fails at once when the queue is full. */
  public CompletableFuture<OperationResult> submit(Operation op) {
    CompletableFuture<OperationResult> f = new CompletableFuture<>();
    if (closed) {
      f.completeExceptionally(closedError());
    } else if (!queue.offer(new Pending(op, op.getSerializedSize() + 4, f))) {
      f.completeExceptionally(
          Caller.clientFull(
              "client queue of "
                  + (queue.remainingCapacity() + queue.size())
                  + " operations is full"));
    }
    return f;
  }

  private void run() {
    while (!closed) {
      try {
        Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        while (!inflight.tryAcquire(100, TimeUnit.MILLISECONDS)) {
          if (closed) {
            first.future().completeExceptionally(closedError());
            return;
          }
        }
        lingerWhileArriving();
        List<Pending> batch = drain(first);
        SubmitRequest.Builder request = SubmitRequest.newBuilder();
        for (Pending p : batch) {
          request.addOperations(p.op());
        }
        CompletableFuture<SubmitResponse> reply;
        try {
          reply = send.apply(request.build());
        } catch (RuntimeException e) {
          reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete(
            (response, err) -> {
              inflight.release();
              dispatch(batch, response, err);
            });
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        // Keep coalescing: a dead thread would strand every later caller.
        continue;
      }
    }
  }

  /** Waits while operations keep arriving: bounded by the quiet gap, lingerMax and maxOps. */
  private void lingerWhileArriving() {
    if (lingerMaxNanos <= 0 || lingerQuietNanos <= 0) {
      return;
    }
    long deadline = System.nanoTime() + lingerMaxNanos;
    int seen = queue.size();
    while (seen + 1 < maxOps && !closed) {
      LockSupport.parkNanos(Math.min(lingerQuietNanos, Math.max(1, deadline - System.nanoTime())));
      int now = queue.size();
      if (now == seen || System.nanoTime() - deadline >= 0) {
        return;
      }
      seen = now;
    }
  }

  private List<Pending> drain(Pending first) {
    List<Pending> batch = new ArrayList<>();
    batch.add(first);
    long bytes = first.bytes();
    while (batch.size() < maxOps) {
      Pending next = queue.peek();
      if (next == null || bytes + next.bytes() > maxBytes) {
        break;
      }
      batch.add(queue.poll());
      bytes += next.bytes();
    }
    return batch;
  }

  private static void dispatch(List<Pending> batch, SubmitResponse response, Throwable err) {
    if (err == null && response.getResultsCount() != batch.size()) {
      err =
          new CairnException(
              Status.Code.INTERNAL,
              null,
              false,
              "node answered " + response.getResultsCount() + " results for " + batch.size(),
              null);
    }
    for (int i = 0; i < batch.size(); i++) {
      Pending p = batch.get(i);
      if (err == null) {
        CairnException expired = Expiry.unknownIfExpired(p.op(), response.getResults(i));
        if (expired != null) {
          p.future().completeExceptionally(expired);
        } else {
          p.future().complete(response.getResults(i));
        }
      } else {
        p.future().completeExceptionally(forOne(p.op(), err));
      }
    }
  }

  /** Each caller sees an error about its own operation id. */
  private static Throwable forOne(Operation op, Throwable err) {
    Throwable e = err instanceof java.util.concurrent.CompletionException c ? c.getCause() : err;
    if (e instanceof OutcomeUnknownException u) {
      return new OutcomeUnknownException(
          List.of(op.getId()), List.of(op), (CairnException) u.getCause());
    }
    return e;
  }

  private static CairnException closedError() {
    return new CairnException(Status.Code.CANCELLED, null, false, "client is closed", null);
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
    for (Pending p : left) {
      p.future().completeExceptionally(closedError());
    }
  }
}
