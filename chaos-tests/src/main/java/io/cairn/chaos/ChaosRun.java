package io.cairn.chaos;

import io.cairn.chaos.Checkers.Final;
import io.cairn.chaos.Checkers.Lookup;
import io.cairn.chaos.Checkers.NodeState;
import io.cairn.chaos.Checkers.Verdict;
import io.cairn.chaos.History.Fault;
import io.cairn.chaos.History.Op;
import io.cairn.chaos.History.Outcome;
import io.cairn.chaos.infra.ClusterSpec;
import io.cairn.chaos.infra.ExecResult;
import io.cairn.chaos.infra.NodeContainers;
import io.cairn.client.CairnClient;
import io.cairn.client.CairnException;
import io.cairn.client.Ops;
import io.cairn.client.OutcomeUnknownException;
import io.cairn.proto.Account;
import io.cairn.proto.ClusterStatusResponse;
import io.cairn.proto.GetTransferResponse;
import io.cairn.proto.ListAccountsResponse;
import io.cairn.proto.ListTransfersRequest;
import io.cairn.proto.ListTransfersResponse;
import io.cairn.proto.Operation;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ResultCode;
import io.cairn.proto.StatementLine;
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
  static final int RAFT_PORT = 7101;

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
      int transfersExpired,
      List<Fault> faults,
      double okPerSecondInFaults,
      double okPerSecondOutside,
      List<Verdict> verdicts) {
    public boolean valid() {
      return verdicts.stream().allMatch(Verdict::valid);
    }

    public String summary() {
      StringBuilder sb = new StringBuilder();
      sb.append(
          String.format(
              "run %s (nemesis %s, %d s): transfers ok %d / fail %d / info %d, reads ok %d / fail %d%n",
              config.name(),
              config.nemesis(),
              config.workload().toSeconds(),
              transfersOk,
              transfersFail,
              transfersInfo,
              readsOk,
              readsFail));
      if (transfersExpired > 0) {
        sb.append(String.format("  transfers answered EXPIRED: %d%n", transfersExpired));
      }
      sb.append(
          String.format(
              "  faults injected: %d %s%n",
              faults.size(), faults.stream().map(Fault::name).toList()));
      sb.append(
          String.format(
              "  availability: %.1f ok ops/s during faults, %.1f outside (%s)%n",
              okPerSecondInFaults,
              okPerSecondOutside,
              okPerSecondOutside > 0
                  ? String.format("%.0f%%", 100 * okPerSecondInFaults / okPerSecondOutside)
                  : "n/a"));
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

  /** The nodes that form the group at the start: five for ring and bridge partitions. */
  private final List<String> founders;

  /** Every node container; with membership changes, n4 joins at set-up and members come and go. */
  private final List<String> nodes;

  private NodeContainers cluster;
  private int jumps; // clock-jump nemesis: ahead on even turns, behind on odd ones

  /** This run's own CA, node certificates (n1..n5) and the worker's client certificate. */
  private java.nio.file.Path certs;

  public ChaosRun(Config config, String image) {
    this.config = config;
    this.image = image;
    this.random = new Random(config.seed());
    this.founders =
        Set.of("ring", "bridge", "all").contains(config.nemesis())
            ? List.of("n1", "n2", "n3", "n4", "n5")
            : List.of("n1", "n2", "n3");
    this.nodes = config.nemesis().equals("member") ? List.of("n1", "n2", "n3", "n4") : founders;
  }

  private boolean changesMembers() {
    return config.nemesis().equals("member") || config.nemesis().equals("all");
  }

  /** Inside each node: a config file whose hot keys the clock-jump nemesis rewrites. */
  static final String HOT_CONFIG = "/certs/hot.properties";

  /** How far the clock-jump nemesis moves a leader's clock: more than the dedupe window. */
  static final long CLOCK_JUMP_MILLIS = 15 * 60_000;

  private boolean jumpsClocks() {
    return config.nemesis().equals("clock-jump");
  }

  private List<String> args(String node) {
    List<String> a = new ArrayList<>();
    boolean founder = founders.contains(node);
    List<String> known = founder ? founders : nodes;
    String peers =
        String.join(
            ",", known.stream().map(n -> n + "=" + n + ":" + RAFT_PORT + ":" + API_PORT).toList());
    if (!founder) {
      a.add("--set");
      a.add("cluster.join=1"); // waits for the set-up to add it (cairnctl cluster add-member)
    }
    for (String kv :
        List.of(
            "node.id=" + node,
            "cluster.peers=" + peers,
            "node.data.dir=/data/" + node,
            "ledger.max.clock.skew.millis=120000",
            "tls.ca.file=/certs/ca.crt",
            "tls.cert.file=/certs/node.crt",
            "tls.key.file=/certs/node.key")) {
      a.add("--set");
      a.add(kv);
    }
    if (jumpsClocks()) {
      // The clock-jump nemesis rewrites this file; the node reloads it within a second.
      a.add("--config");
      a.add(HOT_CONFIG);
    }
    boolean skewed = config.nemesis().equals("skew") || config.nemesis().equals("all");
    if (skewed && !node.equals("n1")) {
      // n2 runs 20 s ahead, n3 20 s behind, where Cairn reads the wall clock. (libfaketime was
      // tried first: it makes the JVM's timed waits return at once, which breaks any node.)
      a.add("--set");
      a.add("debug.clock.offset.millis=" + (node.equals("n2") ? "20000" : "-20000"));
    }
    config
        .nodeSettings()
        .forEach(
            (k, v) -> {
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
        .certificates(certs, "admin")
        .addressResolver(this::resolve)
        .attemptTimeout(Duration.ofMillis(Math.min(1500, total.toMillis())))
        .totalTimeout(total)
        .build();
  }

  private List<String> endpoints(String first) {
    List<String> e = new ArrayList<>();
    e.add(first + ":" + API_PORT);
    for (String n : nodes) {
      if (!n.equals(first)) {
        e.add(n + ":" + API_PORT);
      }
    }
    return e;
  }

  /** Makes this run's certificates: every node's name is in its certificate, as peers dial it. */
  private void makeCertificates() throws java.io.IOException {
    certs = java.nio.file.Files.createTempDirectory("cairn-chaos-certs-");
    io.cairn.cli.cert.CertAuthority ca =
        io.cairn.cli.cert.CertAuthority.create(certs, Duration.ofDays(1));
    for (String n : nodes) {
      ca.issueNode(n, List.of(n, "localhost", "127.0.0.1"), Duration.ofDays(1));
    }
    ca.issueClient("admin", Duration.ofDays(1));
  }

  private Map<String, java.nio.file.Path> files(String node) {
    Map<String, java.nio.file.Path> f = new HashMap<>();
    f.put("/certs/ca.crt", certs.resolve("ca.crt"));
    f.put("/certs/node.crt", certs.resolve("node." + node + ".crt"));
    f.put("/certs/node.key", certs.resolve("node." + node + ".key"));
    if (jumpsClocks()) {
      java.nio.file.Path hot = certs.resolve("hot.properties");
      try {
        if (!java.nio.file.Files.exists(hot)) {
          java.nio.file.Files.writeString(hot, "# rewritten by the clock-jump nemesis\n");
        }
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      f.put(HOT_CONFIG, hot);
    }
    return f;
  }

  /** Sets {@code node}'s clock offset through its hot config file (reloaded within a second). */
  private void setClockOffset(String node, long millis) {
    ExecResult r =
        cluster.exec(
            node,
            Duration.ofSeconds(10),
            "sh",
            "-c",
            "echo debug.clock.offset.millis="
                + millis
                + " > "
                + HOT_CONFIG
                + ".tmp && mv "
                + HOT_CONFIG
                + ".tmp "
                + HOT_CONFIG);
    if (r.exitCode() != 0) {
      throw new IllegalStateException("setting " + node + "'s clock failed: " + r);
    }
  }

  private void deleteCertificates() {
    if (certs == null) {
      return;
    }
    try (var files = java.nio.file.Files.list(certs)) {
      for (java.nio.file.Path f : files.toList()) {
        java.nio.file.Files.deleteIfExists(f);
      }
      java.nio.file.Files.deleteIfExists(certs);
    } catch (java.io.IOException e) {
      // a temp folder left behind is harmless; the run's verdict does not depend on it
    }
  }

  public Result run() throws Exception {
    makeCertificates();
    try {
      return runWithCertificates();
    } finally {
      deleteCertificates();
    }
  }

  private Result runWithCertificates() throws Exception {
    cluster =
        NodeContainers.start(
            ClusterSpec.of(image, nodes.size())
                .withCommand(this::args)
                .withEnv(this::env)
                .withFiles(this::files)
                .withReadyPort(API_PORT)
                .withTimeouts(Duration.ofSeconds(90), Duration.ofSeconds(20)));
    try (CairnClient admin = client(endpoints("n1"), Duration.ofSeconds(20))) {
      awaitLeader(admin, Duration.ofSeconds(60));
      ensureMembers(Duration.ofSeconds(60));
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
        Path dir = config.outputDir().resolve(config.name());
        history.write(dir);
        writeNodeLogs(dir);
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
    for (String n : nodes) {
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
      for (String n : nodes) {
        String first = config.readFrom() != null ? config.readFrom() : n;
        List<String> eps =
            config.readFrom() != null ? List.of(first + ":" + API_PORT) : endpoints(first);
        readers.add(client(eps, Duration.ofSeconds(3)));
      }
      try {
        for (int w = 0; w < config.workers(); w++) {
          int worker = w;
          Thread t =
              new Thread(
                  () ->
                      worker(
                          worker,
                          writer,
                          readers.get(worker % readers.size()),
                          endNanos,
                          nextProcess),
                  "chaos-worker-" + w);
          t.setDaemon(true);
          t.start();
          threads.add(t);
        }
        Thread nemesis = new Thread(() -> nemesis(writer, endNanos), "chaos-nemesis");
        nemesis.setDaemon(true);
        nemesis.start();
        // Membership changes run on their own thread, so they overlap the other faults.
        Thread members = new Thread(() -> memberNemesis(endNanos), "chaos-members");
        members.setDaemon(true);
        if (changesMembers()) {
          members.start();
        }
        for (Thread t : threads) {
          t.join(config.workload().toMillis() + 30_000);
        }
        nemesis.join(60_000);
        members.join(90_000);
      } finally {
        readers.forEach(CairnClient::close);
      }
    }
  }

  private void worker(
      int w, CairnClient writer, CairnClient reader, long endNanos, AtomicInteger next) {
    Random rnd = new Random(config.seed() * 31 + w);
    int process = w;
    int seq = 0;
    while (System.nanoTime() < endNanos) {
      long invoke = history.now();
      if (rnd.nextInt(4) == 0) {
        read(process, reader, invoke);
      } else {
        int a = rnd.nextInt(5);
        int b = (a + 1 + rnd.nextInt(4)) % 5;
        String id = config.name() + "-w" + w + "-" + seq++;
        long amount = 1 + rnd.nextInt(30);
        if (!transfer(process, writer, invoke, id, "bank-" + a, "bank-" + b, amount)) {
          process = next.getAndIncrement(); // Jepsen: a process with an unknown op is retired
        }
      }
      try {
        Thread.sleep(15);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** One read of every balance, recorded as OK with its stamp or as FAIL. */
  private void read(int process, CairnClient reader, long invoke) {
    try {
      ListAccountsResponse r = reader.listAccounts("", 100);
      Map<String, Long> balances = new HashMap<>();
      for (Account a : r.getAccountsList()) {
        balances.put(a.getId(), a.getBalance());
      }
      history.add(
          new Op(
              process,
              "read",
              null,
              null,
              null,
              0,
              invoke,
              history.now(),
              Outcome.OK,
              null,
              r.getStamp().getAppliedIndex(),
              balances,
              r.getStamp().getNodeId(),
              null));
    } catch (CairnException e) {
      history.add(
          new Op(
              process,
              "read",
              null,
              null,
              null,
              0,
              invoke,
              history.now(),
              Outcome.FAIL,
              null,
              0,
              null,
              null,
              e.getMessage()));
    }
  }

  /** One transfer, recorded; false when its outcome is unknown (the process must retire). */
  private boolean transfer(
      int process,
      CairnClient writer,
      long invoke,
      String id,
      String from,
      String to,
      long amount) {
    try {
      OperationResult r = writer.single(Ops.transfer(id, from, to, amount));
      recordTransfer(
          process,
          invoke,
          id,
          from,
          to,
          amount,
          Outcome.OK,
          r.getCode(),
          r.getAppliedIndex(),
          null);
    } catch (OutcomeUnknownException e) {
      recordTransfer(process, invoke, id, from, to, amount, Outcome.INFO, null, 0, e.getMessage());
      return false;
    } catch (CairnException e) {
      recordTransfer(process, invoke, id, from, to, amount, Outcome.FAIL, null, 0, e.getMessage());
    }
    return true;
  }

  private void recordTransfer(
      int process,
      long invoke,
      String id,
      String from,
      String to,
      long amount,
      Outcome outcome,
      ResultCode code,
      long index,
      String error) {
    history.add(
        new Op(
            process,
            "transfer",
            id,
            from,
            to,
            amount,
            invoke,
            history.now(),
            outcome,
            code,
            index,
            null,
            null,
            error));
  }

  private void nemesis(CairnClient admin, long endNanos) {
    List<String> kinds =
        List.of("partition", "isolate-leader", "kill", "pause", "loss", "ring", "bridge");
    try {
      Thread.sleep(3000);
      while (System.nanoTime() + TimeUnit.SECONDS.toNanos(7) < endNanos) {
        String kind = config.nemesis();
        if (kind.equals("member")) {
          return; // the membership thread is the whole nemesis
        }
        if (kind.equals("all")) {
          kind = kinds.get(random.nextInt(kinds.size()));
        } else if (kind.equals("skew")) {
          kind = "kill"; // rotate leadership through the skewed clocks
        }
        long start = history.now();
        try {
          Runnable undo = inject(kind, admin);
          Thread.sleep(4000);
          undo.run();
          history.fault(new Fault(kind, start, history.now()));
        } catch (RuntimeException e) {
          // A node the other nemesis thread just stopped, say. Heal what may be half applied
          // and go on: one failed injection must not leave a partition in force for the rest
          // of the run, nor end the nemesis (both seen in a 600 s campaign).
          history.fault(new Fault("nemesis-error: " + e.getMessage(), start, history.now()));
          try {
            cluster.heal();
          } catch (RuntimeException again) {
            history.fault(new Fault("heal-error: " + again.getMessage(), start, history.now()));
          }
        }
        Thread.sleep(2500);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private Runnable inject(String kind, CairnClient admin) {
    String leader = leader(admin);
    String victim = leader != null ? leader : nodes.get(random.nextInt(nodes.size()));
    switch (kind) {
      case "partition" -> {
        // Random halves: a minority (one of three, two of five) cut off from the rest.
        List<String> order = new ArrayList<>(nodes);
        java.util.Collections.shuffle(order, random);
        cluster.partition(Set.copyOf(order.subList(0, order.size() / 2)));
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
      case "clock-jump" -> {
        // The leader's clock a quarter of an hour (more than the dedupe window) ahead or behind,
        // in turn; then back.
        long jump = (jumps++ % 2 == 0) ? CLOCK_JUMP_MILLIS : -CLOCK_JUMP_MILLIS;
        setClockOffset(victim, jump);
        return () -> setClockOffset(victim, 0);
      }
      case "pause" -> {
        cluster.pause(victim);
        return () -> cluster.unpause(victim);
      }
      case "ring" -> {
        // Majorities ring: each node keeps its two neighbours (itself and them: 3 of 5), so
        // every node sees a majority, and no two see the same one.
        List<String> ring = new ArrayList<>(nodes);
        java.util.Collections.shuffle(ring, random);
        for (int i = 0; i < ring.size(); i++) {
          cluster.cut(ring.get(i), ring.get((i + 2) % ring.size()));
        }
        return cluster::heal;
      }
      case "bridge" -> {
        // Two halves that cannot talk, and one node that talks to both.
        List<String> order = new ArrayList<>(nodes);
        java.util.Collections.shuffle(order, random);
        int half = order.size() / 2;
        cluster.partitionInto(
            List.of(
                Set.copyOf(order.subList(0, half)),
                Set.copyOf(order.subList(half + 1, order.size()))));
        return cluster::heal;
      }
      case "loss" -> {
        String n = nodes.get(random.nextInt(nodes.size()));
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
    for (String n : nodes) {
      cluster.unpause(n);
      cluster.start(n);
    }
    awaitLeader(admin, Duration.ofSeconds(60));
    ensureMembers(Duration.ofSeconds(90));
  }

  /**
   * Remove a random member (the leader as likely as any) and stop it, as an operator would; run
   * without it a while; add it back and start it again with its old data. The add goes first so the
   * leader treats the returning node as bootstrapping rather than telling it to shut down.
   */
  private void memberNemesis(long endNanos) {
    Random rnd = new Random(config.seed() * 17 + 5);
    String pendingRejoin = null;
    try (CairnClient admin = client(endpoints("n1"), Duration.ofSeconds(20))) {
      Thread.sleep(2000);
      while (System.nanoTime() + TimeUnit.SECONDS.toNanos(10) < endNanos) {
        String drawn = nodes.get(rnd.nextInt(nodes.size())); // drawn every cycle: seeds replay
        // A failed cycle may have left its node out: bring that one back first, then go on.
        boolean back = pendingRejoin != null;
        String victim = back ? pendingRejoin : drawn;
        long start = history.now();
        try {
          if (!back) {
            pendingRejoin = victim;
            admin.removeMember(victim);
            cluster.kill9(victim);
            Thread.sleep(3000);
          }
          rejoin(admin, victim);
          pendingRejoin = null;
          history.fault(
              new Fault((back ? "member-back-" : "member-out-") + victim, start, history.now()));
        } catch (CairnException | IllegalStateException e) {
          // Expected under partitions and crashes; the next cycle brings the node back.
          history.fault(new Fault("member-error: " + e.getMessage(), start, history.now()));
        }
        Thread.sleep(2000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Adds {@code node} (the call waits for it to catch up) while starting it if it is down. */
  private void rejoin(CairnClient admin, String node) throws InterruptedException {
    java.util.concurrent.CompletableFuture<Void> added =
        java.util.concurrent.CompletableFuture.runAsync(
            () -> admin.addMember(node, node + ":" + RAFT_PORT, node + ":" + API_PORT));
    Thread.sleep(200);
    if (!cluster.isRunning(node)) {
      cluster.start(node);
    }
    try {
      added.get(60, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof CairnException ce) {
        throw ce;
      }
      throw new IllegalStateException("adding " + node + " failed", e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      added.cancel(true);
      throw new IllegalStateException("adding " + node + " took over 60 s");
    }
  }

  /**
   * Each node's output beside the history, and the wall-clock time of the history's zero, so log
   * lines (wall clock) can be put next to operations (nanoseconds since that zero).
   */
  private void writeNodeLogs(Path dir) {
    try {
      java.nio.file.Files.createDirectories(dir);
      long zeroMillis = System.currentTimeMillis() - history.now() / 1_000_000;
      java.nio.file.Files.writeString(
          dir.resolve("history-zero.txt"), java.time.Instant.ofEpochMilli(zeroMillis) + "\n");
      for (String n : nodes) {
        java.nio.file.Files.writeString(dir.resolve(n + ".log"), cluster.logs(n, 50_000));
      }
    } catch (java.io.IOException | RuntimeException e) {
      System.err.println("could not save node logs: " + e);
    }
  }

  /** Adds every node container that is not a member (bounded by {@code timeout}). */
  private void ensureMembers(Duration timeout) throws InterruptedException {
    if (!changesMembers()) {
      return;
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    try (CairnClient admin = client(endpoints("n1"), Duration.ofSeconds(30))) {
      for (String n : nodes) {
        while (true) {
          try {
            rejoin(admin, n);
            break;
          } catch (CairnException | IllegalStateException e) {
            if (System.nanoTime() > deadline) {
              throw new IllegalStateException("could not make " + n + " a member: " + e, e);
            }
            Thread.sleep(500);
          }
        }
      }
    }
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
          futures.add(
              pool.submit(
                  () -> {
                    GetTransferResponse r = admin.getTransfer(op.id());
                    lookups.put(
                        op.id(),
                        new Lookup(
                            r.getFound(),
                            r.getFound() ? r.getResult().getCode() : null,
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
    return new Final(initial, setupIndex, balances, lookups, nodes, statements(admin, initial));
  }

  /** Each account's whole statement, 1,000 lines a page, at most 1,000 pages. */
  private static Map<String, List<StatementLine>> statements(
      CairnClient admin, Map<String, Long> initial) {
    Map<String, List<StatementLine>> all = new HashMap<>();
    for (String account : initial.keySet()) {
      List<StatementLine> lines = new ArrayList<>();
      com.google.protobuf.ByteString token = com.google.protobuf.ByteString.EMPTY;
      for (int page = 0; page < 1000; page++) {
        ListTransfersResponse r =
            admin.listTransfers(
                ListTransfersRequest.newBuilder()
                    .setAccount(account)
                    .setLimit(1000)
                    .setPageToken(token)
                    .build());
        lines.addAll(r.getLinesList());
        token = r.getNextPageToken();
        if (token.isEmpty()) {
          break;
        }
      }
      all.put(account, lines);
    }
    return all;
  }

  /** Node states once every node reports the same index (or whatever they say at the deadline). */
  private List<NodeState> agreedNodes(CairnClient admin, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<NodeState> states;
    do {
      states = new ArrayList<>();
      for (String n : nodes) {
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
    int expired = 0;
    long okIn = 0;
    long okOut = 0;
    List<Fault> faults = history.faults();
    for (Op op : history.ops()) {
      boolean ok = op.outcome() == Outcome.OK;
      if (op.isTransfer()) {
        tOk += ok ? 1 : 0;
        tFail += op.outcome() == Outcome.FAIL ? 1 : 0;
        tInfo += op.outcome() == Outcome.INFO ? 1 : 0;
        boolean wasExpired =
            op.code() == ResultCode.EXPIRED
                || (op.error() != null && op.error().contains("EXPIRED"));
        expired += wasExpired ? 1 : 0;
      } else {
        rOk += ok ? 1 : 0;
        rFail += ok ? 0 : 1;
      }
      if (ok) {
        boolean inFault =
            faults.stream()
                .anyMatch(
                    f ->
                        op.completeNanos() >= f.startNanos() && op.completeNanos() <= f.endNanos());
        if (inFault) {
          okIn++;
        } else {
          okOut++;
        }
      }
    }
    double faultSeconds = coveredNanos(faults) / 1e9;
    double total = config.workload().toNanos() / 1e9;
    return new Result(
        config,
        tOk,
        tFail,
        tInfo,
        rOk,
        rFail,
        expired,
        faults,
        faultSeconds > 0 ? okIn / faultSeconds : 0,
        total - faultSeconds > 0 ? okOut / (total - faultSeconds) : 0,
        verdicts);
  }

  /** Time covered by at least one fault: faults of the two nemesis threads may overlap. */
  static long coveredNanos(List<Fault> faults) {
    List<Fault> sorted =
        faults.stream().sorted(java.util.Comparator.comparingLong(Fault::startNanos)).toList();
    long total = 0;
    long start = Long.MIN_VALUE;
    long end = Long.MIN_VALUE;
    for (Fault f : sorted) {
      if (f.startNanos() > end) {
        total += end - start;
        start = f.startNanos();
        end = f.endNanos();
      } else {
        end = Math.max(end, f.endNanos());
      }
    }
    return total + (end - start);
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
      Set.of(
          "none",
          "partition",
          "isolate-leader",
          "isolate-n1",
          "kill",
          "pause",
          "loss",
          "skew",
          "clock-jump",
          "member",
          "ring",
          "bridge",
          "all");
}
