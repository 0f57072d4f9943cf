package io.cairn.cli.bench;

import java.io.PrintWriter;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench failover}'s clock: on its own thread, polls the cluster every {@link
 * ClusterWatch#POLL_MILLIS} ms, feeds the time that passed to both recorders' stuck watch (with
 * whether a leader was seen and which nodes answered), and prints a progress line a second on
 * stderr. Runs until {@link #finish}.
 */
final class Monitor {
  private final ClusterWatch watch;
  private final FailoverRecorder java;
  private final FailoverRecorder stub;
  private final PrintWriter err;
  private final long start;
  private final Thread thread;
  private volatile boolean done;

  Monitor(
      ClusterWatch watch,
      FailoverRecorder java,
      FailoverRecorder stub,
      PrintWriter err,
      long start) {
    this.watch = watch;
    this.java = java;
    this.stub = stub;
    this.err = err;
    this.start = start;
    this.thread = new Thread(this::run, "failover-monitor");
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Stops the thread and waits for it, at most a few seconds. */
  void finish() throws InterruptedException {
    done = true;
    thread.join(5_000);
  }

  private void run() {
    long last = System.nanoTime();
    long lastLine = last;
    long[] seen = {0, 0};
    try {
      while (!done) {
        try {
          watch.poll();
        } catch (RuntimeException e) {
          // A status call that failed oddly must not end the clock; the next poll tries again.
          err.println("status poll failed: " + e);
        }
        long now = System.nanoTime();
        boolean leader = watch.leader() != null;
        Set<String> up = watch.upNodes();
        java.tick(now, now - last, leader, up);
        stub.tick(now, now - last, leader, up);
        last = now;
        if (now - lastLine >= TimeUnit.SECONDS.toNanos(1)) {
          progress(now, seen, up);
          lastLine = now;
        }
        Thread.sleep(ClusterWatch.POLL_MILLIS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void progress(long now, long[] seen, Set<String> up) {
    long a = java.totalAcked();
    long b = stub.totalAcked();
    ClusterWatch.NodeView leader = watch.leader();
    synchronized (err) {
      err.printf(
          "%6.1fs java %6d/s (failed %d, unknown %d)  stub %6d/s (failed %d, unknown %d, stuck %d)"
              + "  leader %s, up %s%n",
          (now - start) / 1e9,
          a - seen[0],
          java.totalFailed(),
          java.totalUnknown(),
          b - seen[1],
          stub.totalFailed(),
          stub.totalUnknown(),
          stub.stuckEpisodes(),
          leader == null ? "none" : leader.status().getNodeId(),
          new java.util.TreeSet<>(up));
      err.flush();
    }
    seen[0] = a;
    seen[1] = b;
  }
}
