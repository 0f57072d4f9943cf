package io.cairn.cli.bench;

import io.cairn.cli.Cairnctl;
import io.cairn.cli.CliCommand;
import io.cairn.cli.Json;
import io.cairn.client.CairnClient;
import io.cairn.client.CairnClientBuilder;
import io.cairn.client.CairnException;
import io.cairn.client.Ops;
import io.cairn.client.OutcomeUnknownException;
import io.cairn.proto.Operation;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ResultCode;
import io.cairn.proto.SubmitResponse;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Closed-loop load: N threads share one client; each submits one request of B transfers and waits
 * for its result, again and again, for the duration. Latency per request goes to HdrHistogram
 * (microseconds). Failures are counted and the run goes on (a leader kill shows as errors or
 * unknowns, then recovery).
 */
@Command(
    name = "bench",
    description = {
      "Measure transfer throughput and latency: N concurrent callers, each submitting"
          + " one request of B transfers at a time and waiting for it. Prints a progress"
          + " line per second on stderr and the result on stdout (one JSON object with"
          + " --json).",
      "%nSubcommands: 'bench fsync' measures the disk's fdatasync, the floor under"
          + " one caller's latency; 'bench etcd' runs the same closed loop of single writes"
          + " against etcd; 'bench failover' measures how soon writes resume after a leader"
          + " fault."
    },
    subcommands = {
      FsyncBenchCmd.class,
      EtcdBenchCmd.class,
      VerifyBenchCmd.class,
      FailoverBenchCmd.class
    })
public final class BenchCmd extends CliCommand {
  @Mixin LoadOptions load;

  @Option(
      names = "--batch",
      paramLabel = "B",
      defaultValue = "1",
      description = "Transfers per request (default ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--accounts",
      paramLabel = "A",
      defaultValue = "1000",
      description = "Accounts to move money between (default ${DEFAULT-VALUE}).")
  int accounts;

  @Option(
      names = "--rate",
      paramLabel = "R",
      defaultValue = "0",
      description = "Cap on requests per second over all callers (0: closed loop).")
  double rate;

  @Option(
      names = "--signed",
      description =
          "The accounts require Ed25519 signatures, and every transfer is signed by the bench"
              + " (with Bouncy Castle, so that signing costs the client little): measures the"
              + " leader's signature checks (compare a node with debug.skip.signature.checks=1).")
  boolean signed;

  private final FastEd25519 signer = new FastEd25519();

  /** A transfer of 1 between two bench accounts, signed with --signed. */
  private Operation transferOp(String from, String to) {
    Operation op = Ops.transfer(Ops.newId(), from, to, 1);
    return signed ? signer.sign(op) : op;
  }

  @Option(
      names = "--no-coalesce",
      description = "One RPC per request: turn off the client's coalescing of concurrent callers.")
  boolean noCoalesce;

  @Option(
      names = "--coalesce-inflight",
      paramLabel = "N",
      defaultValue = "" + CairnClient.DEFAULT_COALESCE_INFLIGHT,
      description =
          "Coalesced requests on the wire at once (default ${DEFAULT-VALUE}, the client's).")
  int coalesceInflight;

  @Option(
      names = "--linger-micros",
      paramLabel = "US",
      defaultValue = "" + CairnClient.DEFAULT_LINGER_MAX_MICROS,
      description =
          "Most time the client's coalescer waits for callers still arriving (default ${DEFAULT-VALUE}, the client's; 0: send as soon as a request slot is free).")
  int lingerMicros;

  @Option(
      names = "--async",
      description =
          "Callers are callbacks, not threads: each submits its next transfer when the previous one completes (closed loop, --batch 1 only). Shows what waking N waiting threads costs; the default is threads.")
  boolean async;

  @Option(
      names = "--open-loop",
      description =
          "Open loop (needs --rate): send R requests/s whether or not earlier ones were answered, each as its own RPC to the leader, and count OK, RESOURCE_EXHAUSTED and other errors apart. For overload tests; no warm-up.")
  boolean openLoop;

  @Option(
      names = "--connections",
      paramLabel = "C",
      defaultValue = "4",
      description =
          "Open loop: client connections to spread requests over (default ${DEFAULT-VALUE}).")
  int connections;

  @Option(
      names = "--attempts",
      paramLabel = "N",
      defaultValue = "1",
      description =
          "Open loop: attempts per request; 1 counts a refusal instead of retrying it (default ${DEFAULT-VALUE}).")
  int attempts;

  @Option(
      names = "--max-outstanding",
      paramLabel = "N",
      defaultValue = "4000",
      description =
          "Open loop: most requests awaiting an answer; beyond it a request is not sent, and counted (default ${DEFAULT-VALUE}). Keep it below C x 1024 (a node's streams per connection): calls beyond that wait unsent in the client and end as unknown outcomes.")
  int maxOutstanding;

  @Option(
      names = "--recovery",
      paramLabel = "SECONDS",
      defaultValue = "0",
      description =
          "Open loop: then run --clients closed-loop callers this long and report when throughput came back.")
  int recoverySeconds;

  @Option(
      names = "--baseline",
      paramLabel = "OPS",
      defaultValue = "0",
      description =
          "Open loop: normal transfers/s; recovered = the first 0.5 s at 80%% of it (0: of the recovery phase's own median).")
  double baseline;

  private final Meter meter = new Meter();
  private final AtomicLongArray byCode = new AtomicLongArray(ResultCode.values().length);

  /**
   * The client a closed loop of {@code clients} callers shares: this bench's, and the open loop's
   * recovery phase's, so the two measure the same thing.
   */
  static CairnClientBuilder closedLoopClient(
      io.cairn.cli.Transport transport,
      List<String> endpoints,
      int clients,
      boolean coalesce,
      double timeoutSeconds) {
    CairnClientBuilder b =
        transport
            .apply(CairnClient.builder())
            .endpoints(endpoints)
            .callbackThreads(4)
            // Each caller has at most one call in flight; do not let the client's cap bind.
            .maxInflightCalls(Math.max(1024, clients + 16))
            .totalTimeout(Duration.ofMillis((long) (timeoutSeconds * 1000)));
    return coalesce ? b : b.coalesce(1, 1);
  }

  @Override
  public Integer call() throws Exception {
    checkBounds();
    PrintWriter err = err();
    String run = Ops.newId().substring(0, 6).replaceAll("[^A-Za-z0-9]", "x");
    if (openLoop) {
      return openLoop(err, run);
    }
    CairnClientBuilder builder =
        closedLoopClient(transport(), endpoints(), load.clients, !noCoalesce, timeoutSeconds());
    if (!noCoalesce) {
      builder
          .coalesce(1000, coalesceInflight)
          .coalesceLinger(
              Duration.ofNanos(CairnClient.DEFAULT_LINGER_QUIET_MICROS * 1000L),
              Duration.ofNanos(lingerMicros * 1000L));
    }
    try (CairnClient client = builder.build()) {
      String[] names = setUp(client, run, err);
      report(closedLoop(client, names, err), run);
      return Cairnctl.OK;
    }
  }

  private void checkBounds() {
    if (!load.inBounds()
        || batch < 1
        || batch > 1000
        || accounts < 2
        || accounts > 1_000_000
        || rate < 0) {
      throw new IllegalArgumentException(
          "bounds: --clients 1..4096, --batch 1..1000, --accounts 2..1000000, --duration 1..3600,"
              + " --warmup 0..600, --rate >= 0");
    }
    if (async && (batch != 1 || rate > 0 || openLoop)) {
      throw new IllegalArgumentException(
          "--async is a closed loop of single transfers: no --batch, --rate or --open-loop");
    }
    if (coalesceInflight < 1
        || coalesceInflight > 64
        || lingerMicros < 0
        || lingerMicros > 100_000) {
      throw new IllegalArgumentException(
          "bounds: --coalesce-inflight 1..64, --linger-micros 0..100000");
    }
    if (openLoop
        && (rate <= 0
            || connections < 1
            || connections > 64
            || attempts < 1
            || attempts > 100
            || maxOutstanding < 1
            || maxOutstanding > 1_000_000
            || recoverySeconds < 0
            || recoverySeconds > 3600
            || baseline < 0)) {
      throw new IllegalArgumentException(
          "--open-loop needs --rate > 0; bounds: --connections 1..64, --attempts 1..100,"
              + " --max-outstanding 1..1000000, --recovery 0..3600, --baseline >= 0");
    }
  }

  /** Runs the callers through warm-up and measurement; returns the measured latencies. */
  private Histogram closedLoop(CairnClient client, String[] names, PrintWriter err)
      throws InterruptedException {
    long[] phases = load.phases();
    long end = phases[2];
    List<Thread> workers = new ArrayList<>();
    CountDownLatch asyncDone = new CountDownLatch(load.clients);
    for (int w = 0; w < load.clients; w++) {
      int worker = w;
      if (async) {
        new AsyncCaller(client, names, worker, end, asyncDone).next();
        continue;
      }
      Thread t = new Thread(() -> work(client, names, worker, end), "bench-" + w);
      t.setDaemon(true);
      t.start();
      workers.add(t);
    }
    Histogram total = meter.progress(err, "transfers", phases);
    long joinMillis =
        TimeUnit.SECONDS.toMillis(timeoutSeconds() > 0 ? (long) timeoutSeconds() + 5 : 20);
    for (Thread t : workers) {
      t.join(joinMillis);
    }
    if (async) {
      asyncDone.await(joinMillis, TimeUnit.MILLISECONDS);
    }
    meter.drainInto(total);
    return total;
  }

  private int openLoop(PrintWriter err, String run) throws InterruptedException {
    String[] names;
    try (CairnClient client =
        clientBuilder()
            .endpoints(endpoints())
            .totalTimeout(Duration.ofMillis((long) (timeoutSeconds() * 1000)))
            .build()) {
      names = setUp(client, run, err);
    }
    OpenLoopBench.Settings settings =
        new OpenLoopBench.Settings(
            transport(),
            endpoints(),
            rate,
            load.durationSeconds,
            batch,
            connections,
            attempts,
            maxOutstanding,
            timeoutSeconds(),
            recoverySeconds,
            load.clients,
            !noCoalesce,
            baseline);
    Map<String, Object> j = new OpenLoopBench(settings, err).run(names);
    j.put("run", run);
    emit(openLoopText(j), j);
    return Cairnctl.OK;
  }

  private String openLoopText(Map<String, Object> j) {
    StringBuilder human = new StringBuilder();
    human.append(
        String.format(
            "open loop %.0f requests/s x %d transfers for %ds: sent %d (%.0f/s); not sent: %d at the"
                + " outstanding bound, %d while the generator lagged%n",
            rate,
            batch,
            load.durationSeconds,
            j.get("sent"),
            (Double) j.get("sent_per_sec"),
            j.get("not_sent_outstanding_bound"),
            j.get("not_sent_generator_behind")));
    human.append(
        String.format(
            "ok %d requests (%d transfers, %.0f/s; %d non-OK result codes), resource_exhausted %d,"
                + " unknown %d, other errors %d",
            j.get("ok_requests"),
            j.get("ok_ops"),
            (Double) j.get("ok_ops_per_sec"),
            j.get("non_ok_result_codes"),
            j.get("resource_exhausted"),
            j.get("unknown"),
            j.get("other_errors")));
    if (recoverySeconds > 0) {
      human.append(
          String.format(
              "%nafter: %.0f transfers/s over %ds with %d callers; recovered (80%% of %.0f/s) after %s",
              (Double) j.get("recovery_ops_per_sec"),
              recoverySeconds,
              load.clients,
              (Double) j.get("recovery_reference_ops_per_sec"),
              j.get("recovery_s") == null ? "never" : j.get("recovery_s") + " s"));
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> kinds = (Map<String, Object>) j.get("error_kinds");
    if (!kinds.isEmpty()) {
      human.append("\nerrors seen:");
      kinds.forEach((k, v) -> human.append("\n  ").append(v).append(" x ").append(k));
    }
    return human.toString();
  }

  private String[] setUp(CairnClient client, String run, PrintWriter err) {
    String[] names = new String[accounts];
    List<Operation> ops = new ArrayList<>();
    for (int i = 0; i < accounts; i++) {
      names[i] = "bench-" + run + "-" + i;
      ops.add(
          signed
              ? Ops.createAccount(Ops.newId(), names[i], "", signerKey(), true)
              : Ops.createAccount(Ops.newId(), names[i]));
      ops.add(Ops.mint(Ops.newId(), names[i], 1_000_000_000L));
      if (ops.size() >= 500 || i == accounts - 1) {
        SubmitResponse r = client.submit(ops, false);
        for (OperationResult res : r.getResultsList()) {
          if (res.getCode() != ResultCode.OK) {
            throw new IllegalStateException("bench set-up failed: " + res.getCode());
          }
        }
        ops.clear();
      }
    }
    err.printf("set up %d accounts (bench-%s-*)%n", accounts, run);
    err.flush();
    return names;
  }

  private java.security.PublicKey signerKey() {
    try {
      return io.cairn.proto.signing.Signing.publicKey(signer.publicKeyDer());
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private void work(CairnClient client, String[] names, int worker, long end) {
    SplittableRandom rnd = new SplittableRandom(worker * 0x9E3779B97F4A7C15L + System.nanoTime());
    double perThreadRate = rate > 0 ? rate / load.clients : 0;
    long next = System.nanoTime();
    List<Operation> ops = new ArrayList<>(batch);
    while (System.nanoTime() < end) {
      if (perThreadRate > 0) {
        long wait = next - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(Math.min(wait, end - System.nanoTime()));
        }
        next += (long) (1e9 / perThreadRate);
      }
      ops.clear();
      for (int i = 0; i < batch; i++) {
        int a = rnd.nextInt(names.length);
        int b = (a + 1 + rnd.nextInt(names.length - 1)) % names.length;
        ops.add(transferOp(names[a], names[b]));
      }
      long t0 = System.nanoTime();
      try {
        if (batch == 1) {
          count(client.single(ops.get(0)));
        } else {
          for (OperationResult r : client.submit(ops, false).getResultsList()) {
            count(r);
          }
        }
        meter.answered(t0);
      } catch (CairnException e) {
        meter.failed(e, batch, e instanceof OutcomeUnknownException);
      }
    }
  }

  /** One closed-loop caller without a thread: the completion of each transfer sends the next. */
  private final class AsyncCaller {
    private final CairnClient client;
    private final String[] names;
    private final long end;
    private final CountDownLatch done;
    private final SplittableRandom rnd;

    AsyncCaller(CairnClient client, String[] names, int worker, long end, CountDownLatch done) {
      this.client = client;
      this.names = names;
      this.end = end;
      this.done = done;
      this.rnd = new SplittableRandom(worker * 0x9E3779B97F4A7C15L + System.nanoTime());
    }

    void next() {
      if (System.nanoTime() >= end) {
        done.countDown();
        return;
      }
      int a = rnd.nextInt(names.length);
      int b = (a + 1 + rnd.nextInt(names.length - 1)) % names.length;
      long t0 = System.nanoTime();
      CompletableFuture<OperationResult> f = client.singleAsync(transferOp(names[a], names[b]));
      BiConsumer<OperationResult, Throwable> then =
          (r, e) -> {
            if (e == null) {
              count(r);
              meter.answered(t0);
            } else {
              Throwable c = e instanceof CompletionException ? e.getCause() : e;
              Exception x = c instanceof Exception ex ? ex : new RuntimeException(c);
              meter.failed(x, 1, x instanceof OutcomeUnknownException);
            }
            next();
          };
      // A call refused at once completes before this line: go on from another thread, so a
      // run of refusals cannot grow this stack.
      if (f.isDone()) {
        f.whenCompleteAsync(then);
      } else {
        f.whenComplete(then);
      }
    }
  }

  private void count(OperationResult r) {
    if (meter.measuring()) {
      meter.counted(1);
      byCode.incrementAndGet(r.getCode().ordinal());
    }
  }

  private Map<ResultCode, Long> byCode() {
    Map<ResultCode, Long> byCodeMap = new EnumMap<>(ResultCode.class);
    for (ResultCode c : ResultCode.values()) {
      if (c != ResultCode.UNRECOGNIZED && byCode.get(c.ordinal()) > 0) {
        byCodeMap.put(c, byCode.get(c.ordinal()));
      }
    }
    return byCodeMap;
  }

  private void report(Histogram h, String run) {
    Map<ResultCode, Long> codes = byCode();
    emit(reportText(h, codes) + meter.errorKindsText(), reportJson(h, codes, run));
  }

  private Map<String, Object> reportJson(Histogram h, Map<ResultCode, Long> byCodeMap, String run) {
    double secs = load.durationSeconds;
    Map<String, Object> codes = Json.object();
    byCodeMap.forEach((c, n) -> codes.put(c.name(), n));
    long okOps = byCodeMap.getOrDefault(ResultCode.OK, 0L);
    Map<String, Object> j = Json.object();
    j.put("ops", meter.ops.get());
    j.put("ok_per_sec", okOps / secs);
    j.put("errors", meter.errors.get());
    j.put("unknown", meter.unknown.get());
    j.put("by_code", codes);
    j.put("throughput_per_sec", meter.ops.get() / secs);
    j.put("requests_per_sec", meter.requests.get() / secs);
    Meter.putLatencies(j, h);
    j.put("clients", load.clients);
    j.put("batch", batch);
    j.put("coalescing", !noCoalesce);
    j.put("async_callers", async);
    j.put("coalesce_inflight", noCoalesce ? 0 : coalesceInflight);
    j.put("linger_micros", noCoalesce ? 0 : lingerMicros);
    j.put("duration_s", load.durationSeconds);
    j.put("warmup_s", load.warmupSeconds);
    j.put("endpoints", endpoints());
    j.put("run", run);
    j.put("error_kinds", meter.errorKindsJson());
    return j;
  }

  private String reportText(Histogram h, Map<ResultCode, Long> byCodeMap) {
    double secs = load.durationSeconds;
    long ops = meter.ops.get();
    long okOps = byCodeMap.getOrDefault(ResultCode.OK, 0L);
    return String.format(
        "transfers %d in %ds: %.0f/s answered, %.0f/s OK (%d requests/s), errors %d,"
            + " unknown %d%n"
            + "latency per request (ms): p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f%n"
            + "result codes %s; %d %s, batch %d, coalescing %s",
        ops,
        load.durationSeconds,
        ops / secs,
        okOps / secs,
        Math.round(meter.requests.get() / secs),
        meter.errors.get(),
        meter.unknown.get(),
        h.getValueAtPercentile(50) / 1000.0,
        h.getValueAtPercentile(90) / 1000.0,
        h.getValueAtPercentile(99) / 1000.0,
        h.getValueAtPercentile(99.9) / 1000.0,
        h.getMaxValue() / 1000.0,
        byCodeMap,
        load.clients,
        async ? "async callers" : "caller threads",
        batch,
        noCoalesce
            ? "off"
            : "on (" + coalesceInflight + " in flight, linger " + lingerMicros + " us)");
  }
}
