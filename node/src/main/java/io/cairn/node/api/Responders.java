package io.cairn.node.api;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The pool that answers calls: replies are encoded and handed to gRPC here, never on a Ratis
 * thread. Work already on one of its threads runs inline, so an entry's results, handed over once
 * ({@link WriteBatcher}), answer every request of the entry without a further hop each.
 *
 * <p>Bounded: a fixed number of threads and a bounded queue; when the queue is full the submitter
 * runs the task itself (slower, but a reply is never dropped).
 */
final class Responders implements Executor {
  private static final ThreadLocal<Boolean> ON_POOL = ThreadLocal.withInitial(() -> false);

  private final ThreadPoolExecutor pool;

  Responders(String name, int threads, int queueLimit) {
    this.pool = ApiServer.boundedPool(name, threads, queueLimit, () -> ON_POOL.set(true));
    // Refusals come back to execute(), which runs the task on the caller itself.
    this.pool.setRejectedExecutionHandler(new ThreadPoolExecutor.AbortPolicy());
  }

  @Override
  public void execute(Runnable task) {
    if (ON_POOL.get()) {
      task.run();
      return;
    }
    try {
      pool.execute(task);
    } catch (RejectedExecutionException e) {
      task.run();
    }
  }

  /** Tasks waiting for a thread. */
  int queued() {
    return pool.getQueue().size();
  }

  void close() throws InterruptedException {
    pool.shutdown();
    pool.awaitTermination(2, TimeUnit.SECONDS);
  }

  void closeNow() {
    pool.shutdownNow();
  }
}
