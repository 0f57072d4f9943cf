package io.cairn.cli;

import io.cairn.client.CairnClient;
import io.cairn.proto.LedgerSummary;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Hostile calls against a live cluster, as a role-less principal: random bytes, mutated and
 * non-canonical requests, unknown fields, out-of-range values and raw sockets. Counts the status
 * codes; at the end checks that every node still answers and that the ledger's summary (accounts
 * and totals) did not change, since nothing such a principal sends may change it.
 */
@Command(
    name = "fuzz",
    description = {
      "Send hostile calls to the cluster for --time seconds as --fuzz-user (a"
          + " principal that must hold no role), then check that every node answers and"
          + " that the ledger summary read as --user is unchanged. Prints calls made, each"
          + " status code's count, INTERNAL and UNKNOWN answers, nodes down and hostile"
          + " writes applied; meanwhile, once a second, a valid write and read as --user"
          + " must be answered. Exit 0 only when there are no INTERNAL or UNKNOWN answers, no"
          + " node down, no hostile write applied and no failed valid probe."
    })
final class FuzzCmd extends CliCommand {
  @Option(names = "--time", paramLabel = "S", defaultValue = "60", description = "Seconds.")
  int seconds;

  @Option(
      names = "--inflight",
      paramLabel = "N",
      defaultValue = "256",
      description = "Calls in flight (default ${DEFAULT-VALUE}).")
  int inflight;

  @Option(names = "--seed", paramLabel = "N", description = "Random seed (default: random).")
  Long seed;

  @Option(
      names = "--fuzz-user",
      paramLabel = "NAME",
      defaultValue = "fuzzer",
      description = "Client certificate (in the certs dir) the hostile calls use.")
  String fuzzUser;

  private final Map<String, LongAdder> codes = new ConcurrentHashMap<>();
  private final LongAdder calls = new LongAdder();

  @Override
  public Integer call() throws Exception {
    if (seconds < 1 || seconds > 86_400 || inflight < 1 || inflight > 1024) {
      throw new IllegalArgumentException("bounds: --time 1..86400, --inflight 1..1024");
    }
    long s = seed != null ? seed : System.nanoTime();
    List<String> targets = endpoints();
    LedgerSummary before;
    try (CairnClient c = client()) {
      before = c.summary();
      for (var g :
          c.listRoles("", 1000, io.cairn.proto.ReadOptions.getDefaultInstance()).getGrantsList()) {
        if (g.getPrincipal().equals(fuzzUser)) {
          // With a role its writes could apply legitimately, and the summary check means nothing.
          throw new IllegalArgumentException(
              "--fuzz-user "
                  + fuzzUser
                  + " holds roles "
                  + g.getRolesList()
                  + ": use one with none");
        }
      }
    }
    Transport hostile = new Transport(transport().certs(), fuzzUser, transport().plaintext());
    List<ManagedChannel> channels = new ArrayList<>();
    for (String e : targets) {
      channels.add(
          hostile.apply(NettyChannelBuilder.forTarget(e)).maxInboundMessageSize(16 << 20).build());
    }
    Probe probe = new Probe(client(), s);
    Thread prober = new Thread(probe, "fuzz-probe");
    prober.setDaemon(true);
    try {
      prober.start();
      run(new SplittableRandom(s), channels, targets);
    } finally {
      probe.stop();
      prober.join(TimeUnit.SECONDS.toMillis(30));
      probe.client.close();
      for (ManagedChannel ch : channels) {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    return report(s, targets, before, probe);
  }

  private void run(SplittableRandom rnd, List<ManagedChannel> channels, List<String> targets)
      throws InterruptedException {
    Semaphore permits = new Semaphore(inflight);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    long nextProgress = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < end) {
      if (!permits.tryAcquire(1, TimeUnit.SECONDS)) {
        continue;
      }
      int node = rnd.nextInt(channels.size());
      if (rnd.nextInt(200) == 0) {
        rawSocket(targets.get(node), rnd);
        permits.release();
      } else {
        Hostile h = Hostile.next(rnd);
        send(channels.get(node), h, permits);
      }
      if (System.nanoTime() > nextProgress) {
        nextProgress += TimeUnit.SECONDS.toNanos(10);
        err().println("fuzz: " + calls.sum() + " calls, codes " + snapshot());
        err().flush();
      }
    }
    if (!permits.tryAcquire(inflight, 30, TimeUnit.SECONDS)) {
      err().println("fuzz: calls still in flight after 30 s");
    }
  }

  private void send(ManagedChannel channel, Hostile h, Semaphore permits) {
    calls.increment();
    var f =
        ClientCalls.futureUnaryCall(
            channel.newCall(h.method(), CallOptions.DEFAULT.withDeadlineAfter(2, TimeUnit.SECONDS)),
            h.bytes());
    f.addListener(
        () -> {
          String code;
          try {
            f.get();
            code = "OK";
          } catch (java.util.concurrent.ExecutionException e) {
            code = Status.fromThrowable(e.getCause()).getCode().name();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            code = "INTERRUPTED";
          }
          codes.computeIfAbsent(code, k -> new LongAdder()).increment();
          permits.release();
        },
        Runnable::run);
  }

  /** A TCP connection that sends bytes no TLS handshake starts with, then closes. */
  private void rawSocket(String endpoint, SplittableRandom rnd) {
    calls.increment();
    int colon = endpoint.lastIndexOf(':');
    String code = "RAW_SOCKET";
    try (Socket sock = new Socket()) {
      sock.connect(
          new InetSocketAddress(
              endpoint.substring(0, colon), Integer.parseInt(endpoint.substring(colon + 1))),
          2_000);
      byte[] junk = new byte[1 + rnd.nextInt(256)];
      rnd.nextBytes(junk);
      OutputStream o = sock.getOutputStream();
      o.write(junk);
      o.flush();
    } catch (IOException e) {
      code = "RAW_SOCKET_REFUSED";
    }
    codes.computeIfAbsent(code, k -> new LongAdder()).increment();
  }

  private Map<String, Long> snapshot() {
    Map<String, Long> m = new TreeMap<>();
    codes.forEach((k, v) -> m.put(k, v.sum()));
    return m;
  }

  /**
   * Valid calls as --user, once a second while the hostile ones run: a write that goes through the
   * log and changes nothing (a transfer between two accounts that do not exist: NO_SUCH_ACCOUNT,
   * applied and remembered like any result) and a linearizable read of the summary. Any other
   * answer, or none within the CLI's --timeout, counts as a failed probe.
   */
  private static final class Probe implements Runnable {
    final CairnClient client;
    private final long seed;
    private volatile boolean stopped;
    final LongAdder ok = new LongAdder();
    final LongAdder failed = new LongAdder();
    final org.HdrHistogram.Histogram micros = new org.HdrHistogram.Histogram(3_600_000_000L, 3);
    volatile String firstFailure = "";

    Probe(CairnClient client, long seed) {
      this.client = client;
      this.seed = seed;
    }

    void stop() {
      stopped = true;
    }

    @Override
    public void run() {
      for (long i = 0; !stopped && i < 86_400; i++) {
        long started = System.nanoTime();
        try {
          var r = client.transfer("fuzz-probe-none-" + seed, "fuzz-probe-nobody-" + seed, 1);
          if (r.getCode() != io.cairn.proto.ResultCode.NO_SUCH_ACCOUNT) {
            throw new IllegalStateException("probe transfer answered " + r.getCode());
          }
          client.summary();
          ok.increment();
        } catch (RuntimeException e) {
          failed.increment();
          if (firstFailure.isEmpty()) {
            firstFailure = e.toString();
          }
        }
        long took = System.nanoTime() - started;
        synchronized (micros) {
          micros.recordValue(Math.min(micros.getHighestTrackableValue(), took / 1000));
        }
        long rest = TimeUnit.SECONDS.toNanos(1) - took;
        if (rest > 0 && !stopped) {
          java.util.concurrent.locks.LockSupport.parkNanos(rest);
        }
      }
    }
  }

  private int report(long s, List<String> targets, LedgerSummary before, Probe probe)
      throws Exception {
    int down = 0;
    try (CairnClient c = client()) {
      for (String e : targets) {
        if (!answers(c, e)) {
          down++;
        }
      }
      LedgerSummary after = down == targets.size() ? before : c.summary();
      boolean changed =
          after.getAccountCount() != before.getAccountCount()
              || after.getTotalMinted() != before.getTotalMinted()
              || after.getTotalBurned() != before.getTotalBurned()
              || after.getTotalBalance() != before.getTotalBalance();
      Map<String, Long> seen = snapshot();
      long bad = seen.getOrDefault("INTERNAL", 0L) + seen.getOrDefault("UNKNOWN", 0L);
      long probesOk = probe.ok.sum();
      long probesFailed = probe.failed.sum();
      double p50;
      double p99;
      double max;
      synchronized (probe.micros) {
        p50 = probe.micros.getValueAtPercentile(50) / 1000.0;
        p99 = probe.micros.getValueAtPercentile(99) / 1000.0;
        max = probe.micros.getMaxValue() / 1000.0;
      }
      Map<String, Object> json = new java.util.LinkedHashMap<>();
      json.put("calls", calls.sum());
      json.put("seconds", seconds);
      json.put("seed", s);
      json.put("codes", seen);
      json.put("internal_or_unknown", bad);
      json.put("nodes_down", down);
      json.put("hostile_writes_applied", changed ? 1 : 0);
      json.put("valid_probes_ok", probesOk);
      json.put("valid_probes_failed", probesFailed);
      json.put("valid_probe_ms", Map.of("p50", p50, "p99", p99, "max", max));
      emit(
          String.format(
              "fuzz: %d calls in %d s (seed %d) against %d nodes%n  status codes: %s%n"
                  + "  INTERNAL or UNKNOWN answers: %d%n  nodes down at the end: %d%n"
                  + "  hostile writes applied (ledger summary changed): %d%n"
                  + "  valid probes (a write and a linearizable read as --user, once a second):"
                  + " %d ok, %d failed%s; ms p50 %.1f p99 %.1f max %.1f",
              calls.sum(),
              seconds,
              s,
              targets.size(),
              seen,
              bad,
              down,
              changed ? 1 : 0,
              probesOk,
              probesFailed,
              probesFailed == 0 ? "" : " (first: " + probe.firstFailure + ")",
              p50,
              p99,
              max),
          json);
      return bad == 0 && down == 0 && !changed && probesFailed == 0 && probesOk > 0 ? 0 : 1;
    }
  }

  private static boolean answers(CairnClient c, String endpoint) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < end) {
      try {
        c.status(endpoint);
        return true;
      } catch (RuntimeException e) {
        Thread.sleep(500);
      }
    }
    return false;
  }
}
