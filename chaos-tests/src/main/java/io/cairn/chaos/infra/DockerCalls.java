package io.cairn.chaos.infra;

import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Puts a deadline on Docker API calls, which have none of their own: a call that passes it is
 * abandoned (its daemon thread interrupted) and reported, so the harness never hangs on the engine.
 */
final class DockerCalls implements AutoCloseable {
  private static final int THREADS = 8;
  private static final int QUEUE_LIMIT = 64;

  private final ThreadPoolExecutor executor;

  DockerCalls() {
    AtomicInteger count = new AtomicInteger();
    executor =
        new ThreadPoolExecutor(
            THREADS,
            THREADS,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(QUEUE_LIMIT),
            runnable -> {
              Thread thread = new Thread(runnable, "docker-call-" + count.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            },
            new ThreadPoolExecutor.AbortPolicy());
  }

  <T> T call(String what, Duration timeout, Callable<T> call) {
    Future<T> future = executor.submit(call);
    try {
      return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new ChaosInfraException(what + " timed out after " + timeout, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof ChaosInfraException infra) {
        throw infra;
      }
      throw new ChaosInfraException(what + " failed: " + cause, cause);
    } catch (InterruptedException e) {
      future.cancel(true);
      Thread.currentThread().interrupt();
      throw new ChaosInfraException(what + " interrupted", e);
    }
  }

  void run(String what, Duration timeout, Runnable call) {
    call(
        what,
        timeout,
        () -> {
          call.run();
          return null;
        });
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
