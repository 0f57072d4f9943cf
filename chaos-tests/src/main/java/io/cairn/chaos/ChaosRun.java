package io.cairn.chaos;

import io.cairn.chaos.Checkers.Final;
import io.cairn.chaos.Checkers.Lookup;
import io.cairn.chaos.Checkers.NodeState;
import io.cairn.chaos.Checkers.Verdict;
import io.cairn.chaos.History.Fault;
import io.cairn.chaos.History.Op;
import io.cairn.chaos.History.Outcome;
import io.cairn.chaos.infra.ClusterSpec;
import io.cairn.chaos.infra.NodeContainers;
import io.cairn.client.CairnClient;
import io.cairn.client.CairnException;
import io.cairn.client.Ops;
import io.cairn.client.OutcomeUnknownException;
import io.cairn.proto.Account;
import io.cairn.proto.ClusterStatusResponse;
import io.cairn.proto.GetTransferResponse;
import io.cairn.proto.ListAccountsResponse;
import io.cairn.proto.Operation;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ResultCode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One Jepsen-style run against a 3-node cluster in containers: start, set up a bank, run the
 * workload while a nemesis injects faults, heal, recover, read everything back, check.
 */
public final class ChaosRun {
  static final int API_PORT = 7201;
  static final List<String> NODES = List.of("n1", "n2", "n3");

  /** What to run. {@code readFrom} pins every read to one node (null: spread over all). */
  public record Config(
      String name,
      String nemesis,
      Duration workload,
      int workers,
      long seed,
      Map<String, String> nodeSettings,
      String readFrom,
      Path outputDir) {}

  /** What happened. */
  public record Result(
      Config config,
      int transfersOk,
      int transfersFail,
      int transfersInfo,
      int readsOk,
      int readsFail,
      List<Fault> faults,
      double okPerSecondInFaults,
      double okPerSecondOutside,
      List<Verdict> verdicts) {
    public boolean valid() {
      return verdicts.stream().allMatch(Verdict::valid);
    }

    public String summary() {
      StringBuilder sb = new StringBuilder();
      sb.append(String.format(
          "run %s (nemesis %s, %d s): transfers ok %d / fail %d / info %d, reads ok %d / fail %d%n",
          config.name(), config.nemesis(), config.workload().toSeconds(), transfersOk,
          transfersFail, transfersInfo, readsOk, readsFail));
      sb.append(String.format("  faults injected: %d %s%n", faults.size(),
          faults.stream().map(Fault::name).toList()));
      sb.append(String.format(
          "  availability: %.1f ok ops/s during faults, %.1f outside%n", okPerSecondInFaults,
          okPerSecondOutside));
      for (Verdict v : verdicts) {
        sb.append("  ").append(v).append('\n');
      }
      sb.append("  verdict: ").append(valid() ? "VALID" : "INVALID");
      return sb.toString();
    }
  }

  private final Config config;
  private final String image;
  private final History history = new History(200_000);
  private final Random random;
  private NodeContainers cluster;

  public ChaosRun(Config config, String image) {
    this.config = config;
    this.image = image;
    this.random = new Random(config.seed());
  }

  private List<String> args(String node) {
    List<String> a = new ArrayList<>();
    String peers = String.join(",", NODES.stream().map(n -> n + "=" + n + ":7101:" + API_PORT).toList());
    for (String kv : List.of(
        "node.id=" + node,
        "cluster.peers=" + peers,
        "node.data.dir=/data/" + node,
        "raft.election.timeout.min.millis=500",
        "raft.election.timeout.max.millis=1000",
        "ledger.max.clock.skew.millis=120000")) {
      a.add("--set");
      a.add(kv);
    }
    boolean skewed = config.nemesis().equals("skew") || config.nemesis().equals("all");
    if (skewed && !node.equals("n1")) {
      // n2 runs 20 s ahead, n3 20 s behind, where Cairn reads the wall clock. (libfaketime was
      // tried first: it makes the JVM's timed waits return at once, which breaks any node.)
      a.add("--set");
      a.add("debug.clock.offset.millis=" + (node.equals("n2") ? "20000" : "-20000"));
    }
    config.nodeSettings().forEach((k, v) -> {
      a.add("--set");
      a.add(k + "=" + v);
    });
    return a;
  }

  private Map<String, String> env(String node) {
    Map<String, String> env = new HashMap<>();
    env.put("JDK_JAVA_OPTIONS", "-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1");
    return env;
  }

  /** Maps an endpoint the nodes advertise (nX:7201) to the container's current IP. */
  private String resolve(String endpoint) {
    String host = endpoint.substring(0, endpoint.lastIndexOf(':'));
    try {
      return cluster.ip(host) + endpoint.substring(endpoint.lastIndexOf(':'));
    } catch (RuntimeException e) {
      return "127.0.0.1:1"; // a stopped node: refused at once, never a stray address
    }
  }

  private CairnClient client(List<String> endpoints, Duration total) {
    return CairnClient.builder()
        .endpoints(endpoints)
        .addressResolver(this::resolve)
        .attemptTimeout(Duration.ofMillis(Math.min(1500, total.toMillis())))
        .totalTimeout(total)
        .build();
  }

  private static List<String> endpoints(String first) {
    List<String> e = new ArrayList<>();
    e.add(first + ":" + API_PORT);
    for (String n : NODES) {
      if (!n.equals(first)) {
        e.add(n + ":" + API_PORT);
      }
    }
    return e;
  }

  public Result run() throws Exception {
    cluster =
        NodeContainers.start(
            ClusterSpec.of(image, NODES.size())
                .withCommand(this::args)
                .withEnv(this::env)
                .withReadyPort(API_PORT)
                .withTimeouts(Duration.ofSeconds(90), Duration.ofSeconds(20)));
    try (CairnClient admin = client(endpoints("n1"), Duration.ofSeconds(20))) {
      awaitLeader(admin, Duration.ofSeconds(60));
      Map<String, Long> initial = new HashMap<>();
      List<Operation> setup = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        String a = "bank-" + i;
        initial.put(a, 1000L);
        setup.add(Ops.createAccount(Ops.newId(), a));
        setup.add(Ops.mint(Ops.newId(), a, 1000));
      }
      long setupIndex = 0;
      for (OperationResult r : admin.submit(setup, true).getResultsList()) {
        if (r.getCode() != ResultCode.OK) {
          throw new IllegalStateException("set-up failed: " + r);
        }
        setupIndex = Math.max(setupIndex, r.getAppliedIndex());
      }
      workload();
      recover(admin);
      Final f = finalState(admin, initial, setupIndex);
      List<Verdict> verdicts = Checkers.all(history.ops(), f);
      Result result = result(verdicts);
      if (!result.valid() && config.outputDir() != null) {
        history.write(config.outputDir().resolve(config.name()));
      }
      return result;
    } finally {
      cluster.close();
    }
  }

  private void awaitLeader(CairnClient admin, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (leader(admin) != null) {
        return;
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("no leader within " + timeout);
  }

  private String leader(CairnClient admin) {
    for (String n : NODES) {
      try {
        if (admin.status(n + ":" + API_PORT).getRole().equals("LEADER")) {
          return n;
        }
      } catch (CairnException e) {
        // down, paused or cut off: ask the next
      }
    }
    return null;
  }

  private void workload() throws Exception {
    long endNanos = System.nanoTime() + config.workload().toNanos();
    AtomicInteger nextProcess = new AtomicInteger(config.workers());
    List<Thread> threads = new ArrayList<>();
    try (CairnClient writer = client(endpoints("n1"), Duration.ofSeconds(4))) {
      List<CairnClient> readers = new ArrayList<>();
      for (String n : NODES) {
        String first = config.readFrom() != null ? config.readFrom() : n;
        List<String> eps = config.readFrom() != null ? List.of(first + ":" + API_PORT) : endpoints(first);
        readers.add(client(eps, Duration.ofSeconds(3)));
      }
      try {
        for (int w = 0; w < config.workers(); w++) {
          int worker = w;
          Thread t = new Thread(() -> worker(worker, writer, readers.get(worker % readers.size()),
              endNanos, nextProcess), "chaos-worker-" + w);
          t.setDaemon(true);
          t.start();
          threads.add(t);
        }
        Thread nemesis = new Thread(() -> nemesis(writer, endNanos), "chaos-nemesis");
        nemesis.setDaemon(true);
        nemesis.start();
        for (Thread t : threads) {
          t.join(config.workload().toMillis() + 30_000);
        }
        nemesis.join(60_000);
      } finally {
        readers.forEach(CairnClient::close);
      }
    }
  }

  private void worker(int w, CairnClient writer, CairnClient reader, long endNanos, AtomicInteger next) {
    Random rnd = new Random(config.seed() * 31 + w);
    int process = w;
    int seq = 0;
    while (System.nanoTime() < endNanos) {
      long invoke = history.now();
      if (rnd.nextInt(4) == 0) {
        try {
          ListAccountsResponse r = reader.listAccounts("", 100);
          Map<String, Long> balances = new HashMap<>();
          for (Account a : r.getAccountsList()) {
            balances.put(a.getId(), a.getBalance());
          }
          history.add(new Op(process, "read", null, null, null, 0, invoke, history.now(),
              Outcome.OK, null, r.getStamp().getAppliedIndex(), balances,
              r.getStamp().getNodeId(), null));
        } catch (CairnException e) {
          history.add(new Op(process, "read", null, null, null, 0, invoke, history.now(),
              Outcome.FAIL, null, 0, null, null, e.getMessage()));
        }
      } else {
        int a = rnd.nextInt(5);
        int b = (a + 1 + rnd.nextInt(4)) % 5;
        String id = config.name() + "-w" + w + "-" + seq++;
        long amount = 1 + rnd.nextInt(30);
        try {
          OperationResult r = writer.single(Ops.transfer(id, "bank-" + a, "bank-" + b, amount));
          history.add(new Op(process, "transfer", id, "bank-" + a, "bank-" + b, amount, invoke,
              history.now(), Outcome.OK, r.getCode(), r.getAppliedIndex(), null, null, null));
        } catch (OutcomeUnknownException e) {
          history.add(new Op(process, "transfer", id, "bank-" + a, "bank-" + b, amount, invoke,
              history.now(), Outcome.INFO, null, 0, null, null, e.getMessage()));
          process = next.getAndIncrement(); // Jepsen: a process with an unknown op is retired
        } catch (CairnException e) {
          history.add(new Op(process, "transfer", id, "bank-" + a, "bank-" + b, amount, invoke,
              history.now(), Outcome.FAIL, null, 0, null, null, e.getMessage()));
        }
      }
      try {
        Thread.sleep(15);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void nemesis(CairnClient admin, long endNanos) {
    List<String> kinds = List.of("partition", "isolate-leader", "kill", "pause", "loss");
    try {
      Thread.sleep(3000);
      while (System.nanoTime() + TimeUnit.SECONDS.toNanos(7) < endNanos) {
        String kind = config.nemesis();
        if (kind.equals("all")) {
          kind = kinds.get(random.nextInt(kinds.size()));
        } else if (kind.equals("skew")) {
          kind = "kill"; // rotate leadership through the skewed clocks
        }
        long start = history.now();
        Runnable undo = inject(kind, admin);
        Thread.sleep(4000);
        undo.run();
        history.fault(new Fault(kind, start, history.now()));
        Thread.sleep(2500);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      history.fault(new Fault("nemesis-error: " + e.getMessage(), history.now(), history.now()));
    }
  }

  private Runnable inject(String kind, CairnClient admin) {
    String leader = leader(admin);
    String victim = leader != null ? leader : NODES.get(random.nextInt(NODES.size()));
    switch (kind) {
      case "partition" -> {
        String lone = NODES.get(random.nextInt(NODES.size()));
        cluster.isolate(lone);
        return cluster::heal;
      }
      case "isolate-leader" -> {
        cluster.isolate(victim);
        return cluster::heal;
      }
      case "isolate-n1" -> {
        cluster.isolate("n1");
        return cluster::heal;
      }
      case "kill" -> {
        cluster.kill9(victim);
        return () -> cluster.start(victim);
      }
      case "pause" -> {
        cluster.pause(victim);
        return () -> cluster.unpause(victim);
      }
      case "loss" -> {
        String n = NODES.get(random.nextInt(NODES.size()));
        cluster.packetLoss(n, 40);
        return cluster::heal;
      }
      case "none" -> {
        return () -> {};
      }
      default -> throw new IllegalArgumentException("unknown nemesis " + kind);
    }
  }

  private void recover(CairnClient admin) throws InterruptedException {
    cluster.heal();
    for (String n : NODES) {
      cluster.unpause(n);
      cluster.start(n);
    }
    awaitLeader(admin, Duration.ofSeconds(60));
  }

  private Final finalState(CairnClient admin, Map<String, Long> initial, long setupIndex)
      throws Exception {
    Map<String, Long> balances = new HashMap<>();
    for (Account a : admin.listAccounts("", 100).getAccountsList()) {
      balances.put(a.getId(), a.getBalance());
    }
    Map<String, Lookup> lookups = new ConcurrentHashMap<>();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (Op op : history.ops()) {
        if (op.isTransfer()) {
          futures.add(pool.submit(() -> {
            GetTransferResponse r = admin.getTransfer(op.id());
            lookups.put(op.id(), new Lookup(r.getFound(), r.getFound() ? r.getResult().getCode() : null,
                r.getFound() ? r.getResult().getAppliedIndex() : 0));
          }));
        }
      }
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    List<NodeState> nodes = agreedNodes(admin, Duration.ofSeconds(60));
    return new Final(initial, setupIndex, balances, lookups, nodes);
  }

  /** Node states once every node reports the same index (or whatever they say at the deadline). */
  private List<NodeState> agreedNodes(CairnClient admin, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<NodeState> states;
    do {
      states = new ArrayList<>();
      for (String n : NODES) {
        try {
          ClusterStatusResponse s = admin.status(n + ":" + API_PORT);
          states.add(new NodeState(n, s.getAppliedIndex(), hex(s.getStateRoot().toByteArray())));
        } catch (CairnException e) {
          states.add(new NodeState(n, -1, ""));
        }
      }
      if (states.stream().map(NodeState::index).distinct().count() == 1) {
        return states;
      }
      Thread.sleep(200);
    } while (System.nanoTime() < deadline);
    return states;
  }

  private Result result(List<Verdict> verdicts) {
    int tOk = 0;
    int tFail = 0;
    int tInfo = 0;
    int rOk = 0;
    int rFail = 0;
    long okIn = 0;
    long okOut = 0;
    List<Fault> faults = history.faults();
    for (Op op : history.ops()) {
      boolean ok = op.outcome() == Outcome.OK;
      if (op.isTransfer()) {
        tOk += ok ? 1 : 0;
        tFail += op.outcome() == Outcome.FAIL ? 1 : 0;
        tInfo += op.outcome() == Outcome.INFO ? 1 : 0;
      } else {
        rOk += ok ? 1 : 0;
        rFail += ok ? 0 : 1;
      }
      if (ok) {
        boolean inFault = faults.stream().anyMatch(f -> op.completeNanos() >= f.startNanos()
            && op.completeNanos() <= f.endNanos());
        if (inFault) {
          okIn++;
        } else {
          okOut++;
        }
      }
    }
    double faultSeconds = faults.stream().mapToLong(f -> f.endNanos() - f.startNanos()).sum() / 1e9;
    double total = config.workload().toNanos() / 1e9;
    return new Result(config, tOk, tFail, tInfo, rOk, rFail, faults,
        faultSeconds > 0 ? okIn / faultSeconds : 0,
        total - faultSeconds > 0 ? okOut / (total - faultSeconds) : 0,
        verdicts);
  }

  static String hex(byte[] b) {
    StringBuilder sb = new StringBuilder();
    for (byte x : b) {
      sb.append(String.format("%02x", x));
    }
    return sb.toString();
  }

  /** Names of the nemeses a run can use. */
  public static final Set<String> NEMESES =
      Set.of("none", "partition", "isolate-leader", "isolate-n1", "kill", "pause", "loss", "skew", "all");
}
