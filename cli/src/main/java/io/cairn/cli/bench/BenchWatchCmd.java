package io.cairn.cli.bench;

import io.cairn.cli.Cairnctl;
import io.cairn.cli.CliCommand;
import io.cairn.cli.Json;
import io.cairn.client.CairnClient;
import io.cairn.client.CairnException;
import io.cairn.client.Ops;
import io.cairn.client.OutcomeUnknownException;
import io.cairn.proto.ClusterStatusResponse;
import io.cairn.proto.Operation;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ResultCode;
import io.cairn.proto.SubmitResponse;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Issue 7's many-watchers check: N watchers, each on its own connection, hold a Watch on one node
 * while transfers are driven through the leader; afterwards every watcher must have received the
 * same entries, in order, with an unbroken prev_index chain, and the transfer ids seen must be the
 * acknowledged ones, each once. The watched node's RSS is sampled from /proc throughout.
 */
@Command(
    name = "bench-watch",
    description = {
      "Many watchers on one node: opens N Watch streams, each on its own TCP connection, on one"
          + " node (a follower by default), drives transfers through the leader, then checks that"
          + " every watcher got every ledger entry in order (same indexes, unbroken prev_index"
          + " chain, the acknowledged transfer ids each applied exactly once).",
      "%nSamples the watched node's RSS from /proc/PID/status: the node must run on this"
          + " machine; give --pid, or --pid-dir with <node-id>.pid files as scripts/cluster"
          + " writes them in run/. Raise the node's watch.max.watchers above N."
          + " scripts/bench-watchers starts a cluster of its own on free ports for it.",
      "%nExit 0 when every check passes and the peak RSS is under --max-rss-mb; 1 otherwise."
    })
public final class BenchWatchCmd extends CliCommand {
  @Option(
      names = "--watchers",
      paramLabel = "N",
      defaultValue = "1000",
      description = "Watch streams, one connection each (default ${DEFAULT-VALUE}).")
  int watchers;

  @Option(
      names = "--node",
      paramLabel = "ID",
      defaultValue = "follower",
      description =
          "Node to watch: a node id (n2), 'follower' or 'leader' (default ${DEFAULT-VALUE}).")
  String node;

  @Option(
      names = "--transfers",
      paramLabel = "T",
      defaultValue = "4000",
      description = "Transfers to drive (default ${DEFAULT-VALUE}).")
  int transfers;

  @Option(
      names = "--rate",
      paramLabel = "R",
      defaultValue = "200",
      description = "Transfers per second (default ${DEFAULT-VALUE}).")
  int rate;

  @Option(
      names = "--accounts",
      paramLabel = "A",
      defaultValue = "100",
      description = "Accounts to move money between (default ${DEFAULT-VALUE}).")
  int accounts;

  @Option(
      names = "--buffer",
      paramLabel = "ENTRIES",
      defaultValue = "64",
      description =
          "Entries each watcher requests ahead (gRPC request(n); default ${DEFAULT-VALUE}).")
  int buffer;

  @Option(
      names = "--window-kib",
      paramLabel = "KIB",
      defaultValue = "64",
      description =
          "HTTP/2 flow-control window of each watcher's connection: what the node may send ahead and this client buffers, per watcher (default ${DEFAULT-VALUE}).")
  int windowKib;

  @Option(
      names = "--client-threads",
      paramLabel = "T",
      defaultValue = "2",
      description =
          "Netty event loops, and callback threads, shared by all watchers (default ${DEFAULT-VALUE}).")
  int clientThreads;

  @Option(
      names = "--drain",
      paramLabel = "SECONDS",
      defaultValue = "120",
      description = "Most time for watchers to catch up after the load (default ${DEFAULT-VALUE}).")
  int drainSeconds;

  @Option(
      names = "--pid",
      paramLabel = "PID",
      defaultValue = "0",
      description = "Process id of the watched node (default: from --pid-dir).")
  long pid;

  @Option(
      names = "--pid-dir",
      paramLabel = "DIR",
      defaultValue = "run",
      description =
          "Folder with <node-id>.pid files (default ${DEFAULT-VALUE}, as scripts/cluster writes).")
  Path pidDir;

  @Option(
      names = "--max-rss-mb",
      paramLabel = "MB",
      defaultValue = "512",
      description = "RSS bound for the verdict (default ${DEFAULT-VALUE}).")
  long maxRssMb;

  private final Map<String, Long> ackedIndexById = new ConcurrentHashMap<>();
  private final Map<Long, Long> firstAckNanosByIndex = new ConcurrentHashMap<>();
  private final Set<String> unknownIds = ConcurrentHashMap.newKeySet();
  private final AtomicLong notOk = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  // CPU used from the start of the load to the end of the drain: the watched node, this process.
  private final long[] cpu = new long[2];
  private CairnClient statusClient;
  private String watchedEndpoint;

  @Override
  public Integer call() throws Exception {
    checkBounds();
    PrintWriter err = spec.commandLine().getErr();
    String run = Ops.newId().substring(0, 6).replaceAll("[^A-Za-z0-9]", "x");
    String idPrefix = "bw" + run + "-";
    try (CairnClient writer = client()) {
      Map<String, ClusterStatusResponse> byEndpoint = statuses(writer);
      String watched = choose(byEndpoint);
      String watchedId = byEndpoint.get(watched).getNodeId();
      statusClient = writer;
      watchedEndpoint = watched;
      ProcMemory memory = memory(watchedId, err);
      String[] names = new String[accounts];
      // Watch from just after the set-up: every entry from there on carries this run's transfers.
      long from = setUp(writer, idPrefix, names, err) + 1;
      sample(memory);
      long baselineKib = memory == null ? 0 : memory.rssKib();
      err.printf(
          "watching %s (%s) from index %d with %d watchers%n", watchedId, watched, from, watchers);
      err.flush();
      try (WatcherFleet fleet =
          new WatcherFleet(
              watched, from, buffer, windowKib * 1024, idPrefix, clientThreads, transport())) {
        long openStart = System.nanoTime();
        for (int opened = 0; opened < watchers; opened += 100) {
          fleet.open(Math.min(100, watchers - opened));
          Thread.sleep(50); // spread the connects over the node's accept backlog
        }
        // A first transfer every watcher must receive: proves every stream is established.
        long probe = drive(writer, names, idPrefix, 0, 1, err, fleet, memory);
        boolean connected = awaitAll(fleet, probe, 60, memory);
        long openMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - openStart);
        sample(memory);
        long idleKib = memory == null ? 0 : memory.rssKib();
        err.printf(
            "%d watchers %s in %d ms; node RSS %s (before opening: %s)%n",
            watchers,
            connected ? "connected" : "NOT all connected",
            openMillis,
            mib(idleKib),
            mib(baselineKib));
        err.flush();
        long loadStart = System.nanoTime();
        long nodeCpu0 = memory == null ? -1 : memory.cpuMillis();
        long selfCpu0 = selfCpuMillis();
        long maxAcked = drive(writer, names, idPrefix, 1, transfers - 1, err, fleet, memory);
        double loadSecs = (System.nanoTime() - loadStart) / 1e9;
        long drainStart = System.nanoTime();
        awaitAll(fleet, Math.max(probe, maxAcked), drainSeconds, memory);
        awaitSettled(fleet, 5);
        double drainSecs = (System.nanoTime() - drainStart) / 1e9;
        sample(memory);
        cpu[0] = memory == null || nodeCpu0 < 0 ? -1 : memory.cpuMillis() - nodeCpu0;
        cpu[1] = selfCpuMillis() - selfCpu0;
        return report(
            fleet,
            memory,
            baselineKib,
            idleKib,
            Math.max(probe, maxAcked),
            loadSecs,
            drainSecs,
            watchedId,
            watched,
            from,
            run);
      }
    }
  }

  private void checkBounds() {
    if (watchers < 1
        || watchers > 20_000
        || transfers < 1
        || transfers > 1_000_000
        || rate < 1
        || rate > 100_000
        || accounts < 2
        || accounts > 100_000
        || buffer < 1
        || buffer > 10_000
        || clientThreads < 1
        || clientThreads > 64
        || drainSeconds < 1
        || drainSeconds > 3600
        || windowKib < 16
        || windowKib > 65_536) {
      throw new IllegalArgumentException(
          "bounds: --watchers 1..20000, --transfers 1..1000000, --rate 1..100000, --accounts"
              + " 2..100000, --buffer 1..10000, --client-threads 1..64, --drain 1..3600,"
              + " --window-kib 16..65536");
    }
  }

  private Map<String, ClusterStatusResponse> statuses(CairnClient client) {
    Map<String, ClusterStatusResponse> out = new LinkedHashMap<>();
    for (String e : endpoints()) {
      out.put(e, client.status(e));
    }
    return out;
  }

  private String choose(Map<String, ClusterStatusResponse> byEndpoint) {
    for (Map.Entry<String, ClusterStatusResponse> e : byEndpoint.entrySet()) {
      String role = e.getValue().getRole();
      boolean match =
          switch (node) {
            case "follower" -> role.equals("FOLLOWER");
            case "leader" -> role.equals("LEADER");
            default -> e.getValue().getNodeId().equals(node);
          };
      if (match) {
        return e.getKey();
      }
    }
    throw new IllegalArgumentException(
        "no endpoint is "
            + node
            + " (give every node's --endpoint); roles: "
            + byEndpoint.entrySet().stream()
                .map(e -> e.getValue().getNodeId() + "=" + e.getValue().getRole())
                .toList());
  }

  private ProcMemory memory(String nodeId, PrintWriter err) throws IOException {
    long p = pid;
    if (p == 0) {
      Path f = pidDir.resolve(nodeId + ".pid");
      if (Files.isReadable(f)) {
        p = Long.parseLong(Files.readString(f).trim());
      }
    }
    if (p == 0) {
      err.println("no --pid and no " + pidDir.resolve(nodeId + ".pid") + ": RSS not measured");
      return null;
    }
    ProcMemory m = new ProcMemory(p);
    if (!m.sample()) {
      err.println("cannot read /proc/" + p + "/status: RSS not measured");
      return null;
    }
    return m;
  }

  private static void sample(ProcMemory m) {
    if (m != null) {
      m.sample();
    }
  }

  /** Creates and funds the accounts; returns the highest log index the set-up was applied at. */
  private long setUp(CairnClient client, String idPrefix, String[] names, PrintWriter err) {
    long applied = 0;
    List<Operation> ops = new ArrayList<>();
    for (int i = 0; i < accounts; i++) {
      names[i] = idPrefix + "acct-" + i;
      ops.add(Ops.createAccount(Ops.newId(), names[i]));
      ops.add(Ops.mint(Ops.newId(), names[i], 1_000_000_000L));
      if (ops.size() >= 500 || i == accounts - 1) {
        SubmitResponse r = client.submit(ops, false);
        for (OperationResult res : r.getResultsList()) {
          if (res.getCode() != ResultCode.OK) {
            throw new IllegalStateException("set-up failed: " + res.getCode());
          }
          applied = Math.max(applied, res.getAppliedIndex());
        }
        ops.clear();
      }
    }
    err.printf("set up %d accounts (%sacct-*)%n", accounts, idPrefix);
    err.flush();
    return applied;
  }

  /**
   * Submits transfers {@code first .. first+count-1} at {@link #rate} per second (at most 512 in
   * flight), waits for their results, and returns the highest applied index acknowledged.
   */
  private long drive(
      CairnClient client,
      String[] names,
      String idPrefix,
      int first,
      int count,
      PrintWriter err,
      WatcherFleet fleet,
      ProcMemory memory)
      throws InterruptedException {
    Semaphore inflight = new Semaphore(512);
    List<CompletableFuture<Void>> pending = new ArrayList<>();
    long start = System.nanoTime();
    long nextReport = start + TimeUnit.SECONDS.toNanos(1);
    long maxIndex = 0;
    for (int i = first; i < first + count; i++) {
      long due = start + (long) ((i - first) * 1e9 / rate);
      long wait;
      while ((wait = due - System.nanoTime()) > 0) {
        TimeUnit.NANOSECONDS.sleep(Math.min(wait, TimeUnit.MILLISECONDS.toNanos(100)));
        nextReport = progress(err, start, nextReport, i - first, fleet, memory);
      }
      nextReport = progress(err, start, nextReport, i - first, fleet, memory);
      if (!inflight.tryAcquire(
          timeoutSeconds() > 0 ? (long) (timeoutSeconds() * 1000) : 15_000,
          TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("512 transfers in flight for longer than the timeout");
      }
      String id = idPrefix + "t" + i;
      Operation op = Ops.transfer(id, names[i % names.length], names[(i + 1) % names.length], 1);
      pending.add(
          client
              .singleAsync(op)
              .handle(
                  (r, e) -> {
                    inflight.release();
                    if (e == null) {
                      long now = System.nanoTime();
                      ackedIndexById.put(id, r.getAppliedIndex());
                      firstAckNanosByIndex.merge(r.getAppliedIndex(), now, Math::min);
                      if (r.getCode() != ResultCode.OK) {
                        notOk.incrementAndGet();
                      }
                    } else {
                      Throwable c =
                          e instanceof java.util.concurrent.CompletionException ? e.getCause() : e;
                      if (c instanceof OutcomeUnknownException || !(c instanceof CairnException)) {
                        unknownIds.add(id);
                      } else {
                        errors.incrementAndGet();
                      }
                    }
                    return null;
                  }));
    }
    // Every write ends within the client's total timeout; wait a little longer, never forever.
    long waitUntil =
        System.nanoTime() + TimeUnit.SECONDS.toNanos((long) Math.max(15, timeoutSeconds()) + 10);
    for (CompletableFuture<Void> f : pending) {
      try {
        f.get(Math.max(1, waitUntil - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
        throw new IllegalStateException("transfers still unanswered after the client's timeout", e);
      }
    }
    for (Map.Entry<String, Long> e : ackedIndexById.entrySet()) {
      maxIndex = Math.max(maxIndex, e.getValue());
    }
    return maxIndex;
  }

  private long progress(
      PrintWriter err,
      long start,
      long nextReport,
      int sent,
      WatcherFleet fleet,
      ProcMemory memory) {
    long now = System.nanoTime();
    if (now < nextReport) {
      return nextReport;
    }
    sample(memory);
    long[] slow = fleet.slowest();
    String applied;
    try {
      applied = Long.toString(statusClient.status(watchedEndpoint).getAppliedIndex());
    } catch (CairnException e) {
      applied = "?";
    }
    err.printf(
        "%5.1fs sent %d acked %d (up to index %d); watched node applied %s, watchers live %d,"
            + " slowest at index %d, median %d; node RSS %s%n",
        (now - start) / 1e9,
        sent,
        ackedIndexById.size(),
        firstAckNanosByIndex.keySet().stream().mapToLong(Long::longValue).max().orElse(0),
        applied,
        slow[1],
        slow[0],
        slow[2],
        memory == null ? "?" : mib(memory.rssKib()));
    err.flush();
    return now + TimeUnit.SECONDS.toNanos(1);
  }

  /** Waits (bounded) until every live watcher has received index {@code index}. */
  private static boolean awaitAll(WatcherFleet fleet, long index, int seconds, ProcMemory memory)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      sample(memory);
      long[] slow = fleet.slowest();
      if (slow[1] == 0 || slow[0] >= index) {
        return slow[1] > 0;
      }
      Thread.sleep(100);
    }
    return false;
  }

  /** Waits (bounded) until all live watchers stand at the same last index. */
  private static void awaitSettled(WatcherFleet fleet, int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      long min = Long.MAX_VALUE;
      long max = 0;
      for (WatcherFleet.Watcher w : fleet.watchers()) {
        if (w.failure() == null) {
          min = Math.min(min, w.lastIndex());
          max = Math.max(max, w.lastIndex());
        }
      }
      if (min >= max) {
        return;
      }
      Thread.sleep(100);
    }
  }

  /** How the watchers compared with the reference watcher (watcher 0) and with each other. */
  private static final class Comparison {
    final List<String> problems = new ArrayList<>();
    final Histogram lag = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
    int failed;
    int behind;
    int differing;
    long beforeAck;
    long minEntries = Long.MAX_VALUE;
    long maxEntries;
    int refEntries;
  }

  /** What one run measured, for the report. */
  private record Run(
      WatcherFleet.Watcher ref,
      ProcMemory memory,
      long baselineKib,
      long idleKib,
      double loadSecs,
      double drainSecs,
      String watchedId,
      String watched,
      long from,
      String id) {}

  private int report(
      WatcherFleet fleet,
      ProcMemory memory,
      long baselineKib,
      long idleKib,
      long maxAcked,
      double loadSecs,
      double drainSecs,
      String watchedId,
      String watched,
      long from,
      String run) {
    List<WatcherFleet.Watcher> all = fleet.watchers();
    Run r =
        new Run(
            all.get(0),
            memory,
            baselineKib,
            idleKib,
            loadSecs,
            drainSecs,
            watchedId,
            watched,
            from,
            run);
    Comparison c = new Comparison();
    checkReference(r.ref(), c.problems);
    compareWatchers(all, r.ref(), maxAcked, c);
    if (c.failed > 5 || c.behind > 5 || c.differing > 5) {
      c.problems.add(
          "("
              + c.failed
              + " failed, "
              + c.behind
              + " behind, "
              + c.differing
              + " differing in all)");
    }
    long peakKib = memory == null ? 0 : memory.peakRssKib();
    long hwmKib = memory == null ? 0 : memory.hwmKib();
    boolean rssOk = memory != null && Math.max(peakKib, hwmKib) < maxRssMb * 1024;
    boolean ok = c.problems.isEmpty() && unknownIds.isEmpty() && errors.get() == 0;
    Map<String, Object> j = reportJson(r, c, rssOk, ok);
    emit(reportText(r, c, rssOk, ok), j);
    return ok && rssOk ? Cairnctl.OK : Cairnctl.LEDGER_CODE;
  }

  /** The reference watcher against the acknowledged set: each acked id once, nothing else. */
  private void checkReference(WatcherFleet.Watcher ref, List<String> problems) {
    Map<String, Integer> seen = ref.idCounts();
    if (ref.failure() != null) {
      problems.add("watcher 0 failed: " + ref.failure());
    }
    long missing = 0;
    long duplicated = 0;
    long unexpected = 0;
    for (String id : ackedIndexById.keySet()) {
      int n = seen.getOrDefault(id, 0);
      missing += n == 0 ? 1 : 0;
      duplicated += n > 1 ? 1 : 0;
    }
    for (Map.Entry<String, Integer> e : seen.entrySet()) {
      if (!ackedIndexById.containsKey(e.getKey()) && !unknownIds.contains(e.getKey())) {
        unexpected++;
      }
      if (unknownIds.contains(e.getKey()) && e.getValue() > 1) {
        duplicated++;
      }
    }
    if (missing + duplicated + unexpected > 0) {
      problems.add(
          "watcher 0 vs acknowledged ids: "
              + missing
              + " missing, "
              + duplicated
              + " more than once, "
              + unexpected
              + " never submitted");
    }
  }

  /** Every other watcher against the reference: same indexes, same ids in the same order. */
  private void compareWatchers(
      List<WatcherFleet.Watcher> all, WatcherFleet.Watcher ref, long maxAcked, Comparison c) {
    long[] refIndexes = ref.indexes();
    byte[] refDigest = ref.idSequenceDigest();
    c.refEntries = refIndexes.length;
    for (WatcherFleet.Watcher w : all) {
      long[] idx = w.indexes();
      c.minEntries = Math.min(c.minEntries, idx.length);
      c.maxEntries = Math.max(c.maxEntries, idx.length);
      if (w.failure() != null) {
        if (++c.failed <= 5) {
          c.problems.add(
              "watcher " + w.number + " failed after " + idx.length + " entries: " + w.failure());
        }
        continue;
      }
      if (w.lastIndex() < maxAcked) {
        if (++c.behind <= 5) {
          c.problems.add(
              "watcher " + w.number + " behind: at index " + w.lastIndex() + " of " + maxAcked);
        }
        continue;
      }
      if (!Arrays.equals(idx, refIndexes) || !Arrays.equals(w.idSequenceDigest(), refDigest)) {
        if (++c.differing <= 5) {
          c.problems.add("watcher " + w.number + " saw different entries or ids than watcher 0");
        }
      }
      recordLag(idx, w.receivedNanos(), c);
    }
  }

  /** Delivery lag of each entry: from its first acknowledgement to this watcher's receipt. */
  private void recordLag(long[] idx, long[] recv, Comparison c) {
    for (int i = 0; i < idx.length; i++) {
      Long ack = firstAckNanosByIndex.get(idx[i]);
      if (ack != null) {
        long micros = TimeUnit.NANOSECONDS.toMicros(recv[i] - ack);
        if (micros < 0) {
          c.beforeAck++;
          micros = 0;
        }
        c.lag.recordValue(Math.min(micros, c.lag.getHighestTrackableValue()));
      }
    }
  }

  private Map<String, Object> reportJson(Run r, Comparison c, boolean rssOk, boolean ok) {
    ProcMemory memory = r.memory();
    Histogram lag = c.lag;
    Map<String, Object> j = Json.object();
    j.put("watchers", watchers);
    j.put("window_kib", windowKib);
    j.put("watched_node", r.watchedId());
    j.put("watched_endpoint", r.watched());
    j.put("from_index", r.from());
    j.put("transfers_acked", ackedIndexById.size());
    j.put("transfers_not_ok", notOk.get());
    j.put("transfers_unknown", unknownIds.size());
    j.put("transfer_errors", errors.get());
    j.put("load_seconds", r.loadSecs());
    j.put("drain_seconds", r.drainSecs());
    j.put("entries_per_watcher", c.refEntries);
    j.put("events_per_watcher", r.ref().events());
    j.put("replayed_events_per_watcher", r.ref().replays());
    j.put("entries_min", c.minEntries);
    j.put("entries_max", c.maxEntries);
    j.put("failed", c.failed);
    j.put("behind", c.behind);
    j.put("differing", c.differing);
    j.put("lag_min_ms", lag.getMinValue() / 1000.0);
    j.put("lag_p50_ms", lag.getValueAtPercentile(50) / 1000.0);
    j.put("lag_p99_ms", lag.getValueAtPercentile(99) / 1000.0);
    j.put("lag_max_ms", lag.getMaxValue() / 1000.0);
    j.put("lag_samples", lag.getTotalCount());
    j.put("node_cpu_seconds", cpu[0] / 1000.0);
    j.put("client_cpu_seconds", cpu[1] / 1000.0);
    j.put("received_before_ack", c.beforeAck);
    j.put("node_pid", memory == null ? 0 : memory.pid());
    j.put("node_flags", memory == null ? List.of() : memory.memoryFlags());
    j.put("rss_before_watchers_mib", r.baselineKib() / 1024.0);
    j.put("rss_watchers_idle_mib", r.idleKib() / 1024.0);
    j.put("rss_peak_mib", (memory == null ? 0 : memory.peakRssKib()) / 1024.0);
    j.put("hwm_mib", (memory == null ? 0 : memory.hwmKib()) / 1024.0);
    j.put("rss_samples", memory == null ? 0 : memory.samples());
    j.put("max_rss_mib", maxRssMb);
    j.put("rss_ok", rssOk);
    j.put("ok", ok);
    j.put("problems", c.problems);
    j.put("run", r.id());
    return j;
  }

  private String reportText(Run r, Comparison c, boolean rssOk, boolean ok) {
    Histogram lag = c.lag;
    StringBuilder human = new StringBuilder();
    human.append(
        String.format(
            "watchers %d on %s (%s), each its own connection; %d failed, %d behind, %d differing%n",
            watchers, r.watchedId(), r.watched(), c.failed, c.behind, c.differing));
    human.append(
        String.format(
            "transfers acked %d (not OK %d, unknown %d, errors %d) in %.1f s; drain %.1f s%n",
            ackedIndexById.size(),
            notOk.get(),
            unknownIds.size(),
            errors.get(),
            r.loadSecs(),
            r.drainSecs()));
    human.append(
        String.format(
            "per watcher: %d entries, %d transfer events (+ %d replayed retries; min/max entries over"
                + " watchers %d/%d)%n",
            c.refEntries, r.ref().events(), r.ref().replays(), c.minEntries, c.maxEntries));
    human.append(
        String.format(
            "delivery lag ack->watcher (ms): min %.1f  median %.1f  p99 %.1f  max %.1f"
                + "  (%d samples, %d before the ack)%n",
            lag.getMinValue() / 1000.0,
            lag.getValueAtPercentile(50) / 1000.0,
            lag.getValueAtPercentile(99) / 1000.0,
            lag.getMaxValue() / 1000.0,
            lag.getTotalCount(),
            c.beforeAck));
    human.append(
        String.format(
            "CPU during load and drain: watched node %.1f s, this client %.1f s (over %.1f s)%n",
            cpu[0] / 1000.0, cpu[1] / 1000.0, r.loadSecs() + r.drainSecs()));
    human.append(memoryText(r, rssOk));
    human.append(ok ? "every watcher received every entry in order: OK" : "FAILED:");
    for (String p : c.problems) {
      human.append("\n  ").append(p);
    }
    return human.toString();
  }

  private String memoryText(Run r, boolean rssOk) {
    ProcMemory memory = r.memory();
    if (memory == null) {
      return "node RSS: not measured (no pid)\n";
    }
    return String.format(
        "node %s pid %d %s: RSS before watchers %s, %d watchers idle %s, peak %s, HWM %s"
            + " (bound %d MiB: %s)%n",
        r.watchedId(),
        memory.pid(),
        memory.memoryFlags(),
        mib(r.baselineKib()),
        watchers,
        mib(r.idleKib()),
        mib(memory.peakRssKib()),
        mib(memory.hwmKib()),
        maxRssMb,
        rssOk ? "under" : "OVER");
  }

  private static long selfCpuMillis() {
    java.lang.management.OperatingSystemMXBean os =
        java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean sun
        ? TimeUnit.NANOSECONDS.toMillis(sun.getProcessCpuTime())
        : -1;
  }

  private static String mib(long kib) {
    return String.format("%.0f MiB", kib / 1024.0);
  }
}
