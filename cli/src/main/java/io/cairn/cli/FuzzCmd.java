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
          + " writes applied; exit 0 only when the last three are 0."
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
    try {
      run(new SplittableRandom(s), channels, targets);
    } finally {
      for (ManagedChannel ch : channels) {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    return report(s, targets, before);
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

  private int report(long s, List<String> targets, LedgerSummary before) throws Exception {
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
      emit(
          String.format(
              "fuzz: %d calls in %d s (seed %d) against %d nodes%n  status codes: %s%n"
                  + "  INTERNAL or UNKNOWN answers: %d%n  nodes down at the end: %d%n"
                  + "  hostile writes applied (ledger summary changed): %d",
              calls.sum(), seconds, s, targets.size(), seen, bad, down, changed ? 1 : 0),
          Map.of(
              "calls", calls.sum(),
              "seconds", seconds,
              "seed", s,
              "codes", seen,
              "internal_or_unknown", bad,
              "nodes_down", down,
              "hostile_writes_applied", changed ? 1 : 0));
      return bad == 0 && down == 0 && !changed ? 0 : 1;
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
