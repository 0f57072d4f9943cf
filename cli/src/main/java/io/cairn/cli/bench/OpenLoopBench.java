package io.cairn.cli.bench;

import io.cairn.cli.Json;
import io.cairn.client.CairnClient;
import io.cairn.client.CairnClientBuilder;
import io.cairn.client.CairnException;
import io.cairn.client.Ops;
import io.cairn.client.OutcomeUnknownException;
import io.cairn.proto.ClusterStatusResponse;
import io.cairn.proto.Operation;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ResultCode;
import io.cairn.proto.SubmitResponse;
import io.grpc.Status;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Open-loop load for overload tests: requests are sent at a fixed rate whether or not earlier ones
 * were answered (so the offered load does not fall when the cluster slows down, as a closed loop's
 * would), each as its own RPC straight to the leader, with a bounded number outstanding. Requests
 * the generator could not send (its outstanding bound was reached, or it fell more than a second
 * behind for lack of CPU) are counted apart. Every answer is counted as OK (answered, whatever the
 * ledger's result code), RESOURCE_EXHAUSTED (refused by a bound; with one attempt it is not
 * retried), outcome unknown, or another error. Optionally followed by a closed-loop recovery phase
 * that reports how soon throughput came back.
 */
final class OpenLoopBench {
  /** What to run. {@code baselineOpsPerSec} 0: judge recovery against the phase's own median. */
  record Settings(
      io.cairn.cli.Transport transport,
      List<String> endpoints,
      double ratePerSec,
      int durationSeconds,
      int batch,
      int connections,
      int attempts,
      int maxOutstanding,
      double timeoutSeconds,
      int recoverySeconds,
      int recoveryClients,
      boolean recoveryCoalesce,
      double baselineOpsPerSec) {}

  private static final long WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  private final Settings s;
  private final PrintWriter err;
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong notSent = new AtomicLong();
  private final AtomicLong behind = new AtomicLong();
  private final AtomicLong okRequests = new AtomicLong();
  private final AtomicLong okOps = new AtomicLong();
  private final AtomicLong nonOkCodes = new AtomicLong();
  private final AtomicLong exhausted = new AtomicLong();
  private final AtomicLong unknown = new AtomicLong();
  private final AtomicLong otherErrors = new AtomicLong();
  private final AtomicLong recoveryOps = new AtomicLong();
  private final Map<String, AtomicLong> errorKinds = new ConcurrentHashMap<>();
  private final Semaphore outstanding;

  OpenLoopBench(Settings settings, PrintWriter err) {
    this.s = settings;
    this.err = err;
    this.outstanding = new Semaphore(settings.maxOutstanding());
  }

  Map<String, Object> run(String[] accounts) throws InterruptedException {
    String leader = leaderEndpoint();
    List<CairnClient> clients = new ArrayList<>();
    try {
      for (int i = 0; i < s.connections(); i++) {
        // One client per connection: each has its own channel, so per-connection bounds apply
        // to each, as with independent applications.
        clients.add(
            s.transport()
                .apply(CairnClient.builder())
                .endpoints(List.of(leader))
                .coalesce(1, 1)
                .maxAttempts(s.attempts())
                .maxInflightCalls(s.maxOutstanding() + 16)
                .callbackThreads(2)
                .attemptTimeout(Duration.ofMillis((long) (s.timeoutSeconds() * 1000)))
                .totalTimeout(Duration.ofMillis((long) (s.timeoutSeconds() * 1000)))
                .build());
      }
      long start = System.nanoTime();
      long end = start + TimeUnit.SECONDS.toNanos(s.durationSeconds());
      Thread dispatcher = new Thread(() -> dispatch(clients, accounts, start, end), "open-loop");
      dispatcher.setDaemon(true);
      dispatcher.start();
      List<long[]> during = sample("overload", start, end, okOps);
      dispatcher.join(5_000);
      long overloadEnd = System.nanoTime();

      List<long[]> after = List.of();
      if (s.recoverySeconds() > 0) {
        after = recover(accounts, overloadEnd);
      }
      // Everything sent has an answer or a deadline: wait for the stragglers, bounded.
      long drainUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos((long) s.timeoutSeconds() + 5);
      while (outstanding.availablePermits() < s.maxOutstanding()
          && System.nanoTime() < drainUntil) {
        Thread.sleep(20);
      }
      return report(during, after);
    } finally {
      clients.forEach(CairnClient::close);
    }
  }

  private String leaderEndpoint() {
    try (CairnClient probe =
        s.transport()
            .apply(CairnClient.builder())
            .endpoints(s.endpoints())
            .totalTimeout(Duration.ofMillis((long) (s.timeoutSeconds() * 1000)))
            .build()) {
      ClusterStatusResponse st = probe.status();
      if (st.getLeaderEndpoint().isEmpty()) {
        throw new IllegalStateException("the cluster has no leader now; try again");
      }
      return st.getLeaderEndpoint();
    }
  }

  private void dispatch(List<CairnClient> clients, String[] accounts, long start, long end) {
    SplittableRandom rnd = new SplittableRandom(System.nanoTime());
    double intervalNanos = 1e9 / s.ratePerSec();
    long k = 0;
    while (true) {
      long due = start + (long) (k * intervalNanos);
      long now = System.nanoTime();
      if (due >= end || now >= end) {
        return;
      }
      if (due > now) {
        LockSupport.parkNanos(due - now);
      } else if (now - due > TimeUnit.SECONDS.toNanos(1)) {
        // This process cannot keep up (CPU): skip, and say so, rather than burst later.
        long missed = (long) ((now - due) / intervalNanos);
        behind.addAndGet(missed);
        k += missed;
        continue;
      }
      k++;
      if (!outstanding.tryAcquire()) {
        notSent.incrementAndGet();
        continue;
      }
      List<Operation> ops = new ArrayList<>(s.batch());
      for (int i = 0; i < s.batch(); i++) {
        int a = rnd.nextInt(accounts.length);
        int b = (a + 1 + rnd.nextInt(accounts.length - 1)) % accounts.length;
        ops.add(Ops.transfer(Ops.newId(), accounts[a], accounts[b], 1));
      }
      sent.incrementAndGet();
      clients
          .get((int) (k % clients.size()))
          .submitAsync(ops, false)
          .whenComplete(
              (r, e) -> {
                outstanding.release();
                classify(r, e);
              });
    }
  }

  private void classify(SubmitResponse r, Throwable e) {
    if (e == null) {
      okRequests.incrementAndGet();
      okOps.addAndGet(r.getResultsCount());
      for (OperationResult res : r.getResultsList()) {
        if (res.getCode() != ResultCode.OK) {
          nonOkCodes.incrementAndGet();
        }
      }
      return;
    }
    Throwable c =
        e instanceof java.util.concurrent.CompletionException && e.getCause() != null
            ? e.getCause()
            : e;
    if (c instanceof OutcomeUnknownException) {
      unknown.incrementAndGet();
      note(c);
    } else if (c instanceof CairnException ce && ce.code() == Status.Code.RESOURCE_EXHAUSTED) {
      exhausted.incrementAndGet();
    } else {
      otherErrors.incrementAndGet();
      note(c);
    }
  }

  private void note(Throwable e) {
    String key =
        e.getClass().getSimpleName()
            + ": "
            + String.valueOf(e.getMessage())
                .replaceAll("[0-9A-Za-z_-]{22}", "<id>")
                .replaceAll("[0-9]+\\.[0-9]+s", "<t>s")
                .replaceAll("\\[closed=.*", "");
    AtomicLong n = errorKinds.get(key);
    if (n == null && errorKinds.size() < 20) {
      n = errorKinds.computeIfAbsent(key, x -> new AtomicLong());
    }
    if (n != null) {
      n.incrementAndGet();
    }
  }

  /** Closed loop on a fresh, normally retrying client, from the moment the overload stops. */
  private List<long[]> recover(String[] accounts, long from) throws InterruptedException {
    CairnClientBuilder b =
        BenchCmd.closedLoopClient(
            s.transport(),
            s.endpoints(),
            s.recoveryClients(),
            s.recoveryCoalesce(),
            s.timeoutSeconds());
    long end = from + TimeUnit.SECONDS.toNanos(s.recoverySeconds());
    try (CairnClient client = b.build()) {
      List<Thread> workers = new ArrayList<>();
      for (int w = 0; w < s.recoveryClients(); w++) {
        int seed = w;
        Thread t =
            new Thread(
                () -> {
                  SplittableRandom rnd = new SplittableRandom(seed * 31L + System.nanoTime());
                  while (System.nanoTime() < end) {
                    int x = rnd.nextInt(accounts.length);
                    int y = (x + 1 + rnd.nextInt(accounts.length - 1)) % accounts.length;
                    try {
                      client.transfer(accounts[x], accounts[y], 1);
                      recoveryOps.incrementAndGet();
                    } catch (CairnException e) {
                      note(e);
                    }
                  }
                },
                "recovery-" + w);
        t.setDaemon(true);
        t.start();
        workers.add(t);
      }
      List<long[]> windows = sample("recovery", from, end, recoveryOps);
      for (Thread t : workers) {
        t.join((long) (s.timeoutSeconds() * 1000) + 5_000);
      }
      return windows;
    }
  }

  /** Counts per 500 ms window of {@code counter} until {@code end}; prints one line a second. */
  private List<long[]> sample(String phase, long start, long end, AtomicLong counter)
      throws InterruptedException {
    List<long[]> windows = new ArrayList<>();
    long last = counter.get();
    long lastRe = exhausted.get();
    long lastErr = otherErrors.get() + unknown.get();
    long next = start + WINDOW_NANOS;
    while (next <= end) {
      long wait = next - System.nanoTime();
      if (wait > 0) {
        Thread.sleep(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait)));
      }
      long v = counter.get();
      long re = exhausted.get();
      long e = otherErrors.get() + unknown.get();
      windows.add(new long[] {v - last, re - lastRe, e - lastErr});
      if (windows.size() % 2 == 0) {
        long[] p = windows.get(windows.size() - 2);
        long[] q = windows.get(windows.size() - 1);
        err.printf(
            "%5.1fs %-8s ok %d/s  resource_exhausted %d/s  other errors %d/s%n",
            (System.nanoTime() - start) / 1e9, phase, p[0] + q[0], p[1] + q[1], p[2] + q[2]);
        err.flush();
      }
      last = v;
      lastRe = re;
      lastErr = e;
      next += WINDOW_NANOS;
    }
    return windows;
  }

  private Map<String, Object> report(List<long[]> during, List<long[]> after) {
    double secs = s.durationSeconds();
    Map<String, Object> j = Json.object();
    j.put("mode", "open-loop");
    j.put("offered_rate_per_sec", s.ratePerSec());
    j.put("sent", sent.get());
    j.put("sent_per_sec", sent.get() / secs);
    j.put("not_sent_outstanding_bound", notSent.get());
    j.put("not_sent_generator_behind", behind.get());
    j.put("ok_requests", okRequests.get());
    j.put("ok_ops", okOps.get());
    j.put("ok_ops_per_sec", okOps.get() / secs);
    j.put("non_ok_result_codes", nonOkCodes.get());
    j.put("resource_exhausted", exhausted.get());
    j.put("unknown", unknown.get());
    j.put("other_errors", otherErrors.get());
    j.put("duration_s", s.durationSeconds());
    j.put("batch", s.batch());
    j.put("connections", s.connections());
    j.put("attempts", s.attempts());
    j.put("max_outstanding", s.maxOutstanding());
    if (!after.isEmpty()) {
      long[] perWindow = after.stream().mapToLong(w -> w[0]).toArray();
      double reference = s.baselineOpsPerSec();
      if (reference <= 0) {
        long[] tail = Arrays.copyOfRange(perWindow, perWindow.length / 2, perWindow.length);
        Arrays.sort(tail);
        reference = tail.length == 0 ? 0 : tail[tail.length / 2] * 2.0;
      }
      double recoverySecs = -1;
      for (int i = 0; i < perWindow.length; i++) {
        if (perWindow[i] * 2.0 >= 0.8 * reference && reference > 0) {
          recoverySecs = (i + 1) * WINDOW_NANOS / 1e9;
          break;
        }
      }
      j.put("recovery_ops_per_sec", recoveryOps.get() / (double) s.recoverySeconds());
      j.put("recovery_reference_ops_per_sec", reference);
      j.put("recovery_s", recoverySecs < 0 ? null : recoverySecs);
      List<Object> series = new ArrayList<>();
      for (long w : perWindow) {
        series.add(w * 2);
      }
      j.put("recovery_ops_per_sec_by_half_second", series);
    }
    List<Object> duringSeries = new ArrayList<>();
    for (long[] w : during) {
      duringSeries.add(List.of(w[0] * 2, w[1] * 2, w[2] * 2));
    }
    j.put("overload_ok_re_err_per_sec_by_half_second", duringSeries);
    Map<String, Object> kinds = Json.object();
    errorKinds.forEach((k, v) -> kinds.put(k, v.get()));
    j.put("error_kinds", kinds);
    return j;
  }
}
