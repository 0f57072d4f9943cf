package io.cairn.node.raft;

import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;

/**
 * Futures completed once the state machine has applied a given index: stale reads with a minimum
 * index wait here. Bounded: over {@code maxWaiters} a new wait fails at once (the caller answers
 * RESOURCE_EXHAUSTED); every wait also carries the caller's own timeout.
 */
final class AppliedIndexWaiters {
  private record Waiter(long index, CompletableFuture<Long> future) {}

  private final int maxWaiters;
  private final PriorityQueue<Waiter> waiting =
      new PriorityQueue<>((a, b) -> Long.compare(a.index(), b.index()));
  private long applied;

  AppliedIndexWaiters(int maxWaiters) {
    this.maxWaiters = maxWaiters;
  }

  /** Completes with the applied index once it is at least {@code index}; null if full. */
  synchronized CompletableFuture<Long> await(long index) {
    if (index <= applied) {
      return CompletableFuture.completedFuture(applied);
    }
    if (waiting.size() >= maxWaiters) {
      waiting.removeIf(w -> w.future().isDone());
      if (waiting.size() >= maxWaiters) {
        return null;
      }
    }
    CompletableFuture<Long> f = new CompletableFuture<>();
    waiting.add(new Waiter(index, f));
    return f;
  }

  void advance(long index) {
    java.util.List<Waiter> ready = new java.util.ArrayList<>();
    synchronized (this) {
      if (index <= applied) {
        return;
      }
      applied = index;
      while (!waiting.isEmpty() && waiting.peek().index() <= index) {
        ready.add(waiting.poll());
      }
    }
    // Complete outside the lock: callers' continuations must not run while we hold it.
    for (Waiter w : ready) {
      w.future().complete(index);
    }
  }
}
