package io.cairn.cli.bench;

import io.cairn.cli.Cairnctl;
import io.cairn.cli.CliCommand;
import io.cairn.cli.Json;
import io.cairn.client.CairnClient;
import io.cairn.client.Ops;
import io.cairn.proto.Operation;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ResultCode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code cairnctl bench failover}: two loads at once (Java client callers, plain gRPC stub callers
 * bound one node each) against the local cluster while the leader is killed, stopped, or every node
 * restarted in turn; reports per fault and client kind how soon writes were acknowledged again. See
 * {@link FailoverRecorder} for what is recorded and {@link FailoverReport} for the figures.
 */
@Command(
    name = "failover",
    header = "Time from a leader fault to the first acknowledged write, for two kinds of client.",
    description = {
      "Runs --clients callers on one Java client (CairnClient, its own retries and"
          + " routing) and --stub-clients callers of the plain generated gRPC stub (each"
          + " bound to one node, round-robin; 1 s deadline per attempt, on any error 50 ms"
          + " sleep and the same request again, at most 1000 attempts and 30 s per call),"
          + " all sending transfers of 1 in a closed loop, against the local cluster that"
          + " scripts/cluster runs. Then --fault: kill  --kills times: SIGKILL the leader,"
          + " restart it (scripts/cluster restart N) --restart-after s later, wait until"
          + " every node is back and caught up, --pause s; stop  --kills times: SIGSTOP the"
          + " leader for --stop-seconds, then SIGCONT; roll  once: scripts/cluster roll"
          + " (every node restarted with SIGTERM, leader last); none  no fault: the load"
          + " alone for --duration s (are there elections?).",
      "%nFor each fault and client kind: the time from the fault to the first"
          + " acknowledgement of a write sent after it (for the Java client a call started"
          + " after it; for the stub an attempt sent after it), the time until every caller"
          + " not bound to the faulted node had one, the longest time without any"
          + " acknowledgement, final errors and unknown outcomes; for the stub, callers"
          + " stuck (no acknowledgement for --stuck-millis while a leader existed and the"
          + " caller's node answered). Also each node's cairn.raft.leader.changes before"
          + " and after. Use scripts/bench-failover, which starts a fresh cluster."
    },
    defaultValueProvider = FailoverBenchCmd.Defaults.class)
public final class FailoverBenchCmd extends CliCommand {
  /** This command's defaults for the shared load options: 16 callers, 600 s for --fault none. */
  static final class Defaults implements CommandLine.IDefaultValueProvider {
    @Override
    public String defaultValue(CommandLine.Model.ArgSpec arg) {
      if (arg instanceof CommandLine.Model.OptionSpec o) {
        switch (o.longestName()) {
          case "--clients":
            return "16";
          case "--duration":
            return "600";
          default:
            return null;
        }
      }
      return null;
    }
  }

  private static final Pattern ROLL_RESTART = Pattern.compile("^roll: restarting (n[1-9]) .*");
  private static final Pattern ROLL_DONE = Pattern.compile("^roll: (n[1-9]) done in ([0-9]+) s");

  @Mixin LoadOptions load;

  @Option(
      names = "--fault",
      paramLabel = "KIND",
      defaultValue = "kill",
      description = "kill, stop, roll or none (default ${DEFAULT-VALUE}).")
  String fault;

  @Option(
      names = {"--kills", "--faults"},
      paramLabel = "N",
      defaultValue = "10",
      description = "Faults for kill and stop (default ${DEFAULT-VALUE}).")
  int faults;

  @Option(
      names = "--stub-clients",
      paramLabel = "M",
      defaultValue = "16",
      description = "Plain gRPC stub callers, spread over the nodes (default ${DEFAULT-VALUE}).")
  int stubClients;

  @Option(
      names = "--restart-after",
      paramLabel = "SECONDS",
      defaultValue = "4",
      description = "kill: restart the killed node this long after (default ${DEFAULT-VALUE}).")
  int restartAfterSeconds;

  @Option(
      names = "--stop-seconds",
      paramLabel = "SECONDS",
      defaultValue = "5",
      description = "stop: how long the leader stays stopped (default ${DEFAULT-VALUE}).")
  int stopSeconds;

  @Option(
      names = "--pause",
      paramLabel = "SECONDS",
      defaultValue = "4",
      description =
          "Steady load before each fault, once the cluster is whole (default ${DEFAULT-VALUE}).")
  int pauseSeconds;

  @Option(
      names = "--accounts",
      paramLabel = "A",
      defaultValue = "1000",
      description = "Accounts to move money between (default ${DEFAULT-VALUE}).")
  int accounts;

  @Option(
      names = "--catch-up-gap",
      paramLabel = "ENTRIES",
      defaultValue = "1000",
      description =
          "Whole again: every node's applied index within this of the leader's (default ${DEFAULT-VALUE}).")
  long catchUpGap;

  @Option(
      names = "--catch-up-timeout",
      paramLabel = "SECONDS",
      defaultValue = "90",
      description = "Most time to wait for the cluster to be whole (default ${DEFAULT-VALUE}).")
  int catchUpTimeoutSeconds;

  @Option(
      names = "--stuck-millis",
      paramLabel = "MS",
      defaultValue = "5000",
      description =
          "A caller this long without an acknowledgement is stuck (default ${DEFAULT-VALUE}).")
  long stuckMillis;

  @Option(
      names = "--run-dir",
      paramLabel = "DIR",
      defaultValue = "run",
      description = "Where scripts/cluster keeps nN.pid (default ${DEFAULT-VALUE}).")
  Path runDir;

  @Option(
      names = "--cluster-script",
      paramLabel = "PATH",
      defaultValue = "scripts/cluster",
      description = "The script that restarts and rolls nodes (default ${DEFAULT-VALUE}).")
  Path clusterScript;

  @Option(
      names = "--metrics-port-base",
      paramLabel = "PORT",
      defaultValue = "7300",
      description = "Node nN serves metrics on 127.0.0.1:PORT+N (default ${DEFAULT-VALUE}).")
  int metricsPortBase;

  @Option(names = "--no-coalesce", description = "Java client: one RPC per transfer.")
  boolean noCoalesce;

  private final List<String[]> rollSteps = new ArrayList<>();
  private final List<Object> wholeAgainSeconds = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    checkBounds();
    PrintWriter err = err();
    List<String> endpoints = endpoints();
    try (ClusterWatch watch = new ClusterWatch(transport(), endpoints);
        CairnClient client =
            BenchCmd.closedLoopClient(
                    transport(), endpoints, load.clients, !noCoalesce, timeoutSeconds())
                .build()) {
      String[] names = setUp(client, err);
      awaitWhole(watch, "before the run");
      List<String> nodes = new ArrayList<>();
      for (String e : endpoints) {
        nodes.add(watch.nodeIdOf(e));
      }
      List<String> stubEndpoints = new ArrayList<>();
      String[] stubNodes = new String[stubClients];
      for (int i = 0; i < stubClients; i++) {
        stubEndpoints.add(endpoints.get(i % endpoints.size()));
        stubNodes[i] = nodes.get(i % nodes.size());
      }
      FailoverRecorder java = new FailoverRecorder(new String[load.clients], stuckMillis);
      FailoverRecorder stub = new FailoverRecorder(stubNodes, stuckMillis);
      NodeControl control = new NodeControl(runDir, clusterScript, metricsPortBase, err);
      Map<String, Object> j = Json.object();
      j.put("leader_changes_before", leaderChanges(control, nodes));
      j.put("term_before", leaderTerm(watch));
      long start = System.nanoTime();
      try (FailoverLoad fl = new FailoverLoad(names, java, stub, stubEndpoints, transport())) {
        Monitor monitor = new Monitor(watch, java, stub, err, start);
        monitor.start();
        try {
          fl.start(client);
          Thread.sleep(TimeUnit.SECONDS.toMillis(load.warmupSeconds));
          runFaults(watch, control, java, stub, err);
        } finally {
          long joinMillis = FailoverLoad.STUB_MAX_CALL_MILLIS + (long) (timeoutSeconds() * 1000);
          if (!fl.stop(joinMillis)) {
            err.println("warning: some callers were still in a call when the run ended");
          }
          monitor.finish();
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      awaitWhole(watch, "after the run");
      j.put("leader_changes_after", leaderChanges(control, nodes));
      j.put("term_after", leaderTerm(watch));
      return report(j, java, stub, start, seconds);
    }
  }

  private void checkBounds() {
    if (!load.inBounds()
        || !List.of("kill", "stop", "roll", "none").contains(fault)
        || faults < 1
        || faults > 100
        || stubClients < 0
        || stubClients > 1024
        || restartAfterSeconds < 0
        || restartAfterSeconds > 600
        || stopSeconds < 1
        || stopSeconds > 600
        || pauseSeconds < 0
        || pauseSeconds > 600
        || accounts < 2
        || accounts > 100_000
        || catchUpGap < 0
        || catchUpTimeoutSeconds < 1
        || catchUpTimeoutSeconds > 3600
        || stuckMillis < 100) {
      throw new IllegalArgumentException(
          "bounds: "
              + LoadOptions.BOUNDS
              + ", --fault kill|stop|roll|none, --kills 1..100, --stub-clients 0..1024,"
              + " --restart-after 0..600, --stop-seconds 1..600, --pause 0..600,"
              + " --accounts 2..100000, --catch-up-gap >= 0, --catch-up-timeout 1..3600,"
              + " --stuck-millis >= 100");
    }
  }

  private void awaitWhole(ClusterWatch watch, String when) throws InterruptedException {
    if (!watch.awaitHealthy(catchUpGap, TimeUnit.SECONDS.toMillis(catchUpTimeoutSeconds))) {
      throw new IllegalStateException(
          "the cluster was not whole (every node up and within "
              + catchUpGap
              + " entries of a leader) within "
              + catchUpTimeoutSeconds
              + " s "
              + when
              + "; last view:"
              + watch.describe());
    }
  }

  private void runFaults(
      ClusterWatch watch,
      NodeControl control,
      FailoverRecorder java,
      FailoverRecorder stub,
      PrintWriter err)
      throws Exception {
    switch (fault) {
      case "none" -> Thread.sleep(TimeUnit.SECONDS.toMillis(load.durationSeconds));
      case "roll" -> {
        Thread.sleep(TimeUnit.SECONDS.toMillis(pauseSeconds));
        control.script(List.of("roll"), 900, line -> onRollLine(line, java, stub));
        awaitWhole(watch, "after the roll");
        Thread.sleep(TimeUnit.SECONDS.toMillis(pauseSeconds));
      }
      default -> {
        for (int k = 0; k < faults; k++) {
          awaitWhole(watch, "before fault " + (k + 1));
          Thread.sleep(TimeUnit.SECONDS.toMillis(pauseSeconds));
          leaderFault(watch, control, java, stub, err, k);
          long faultAt = java.faults().get(k).atNanos();
          awaitWhole(watch, "after fault " + (k + 1));
          wholeAgainSeconds.add((System.nanoTime() - faultAt) / 1e9);
        }
        Thread.sleep(TimeUnit.SECONDS.toMillis(pauseSeconds));
      }
    }
  }

  private void leaderFault(
      ClusterWatch watch,
      NodeControl control,
      FailoverRecorder java,
      FailoverRecorder stub,
      PrintWriter err,
      int k)
      throws Exception {
    ClusterWatch.NodeView leader = watch.leader();
    if (leader == null) {
      throw new IllegalStateException("no leader before fault " + (k + 1) + watch.describe());
    }
    String node = leader.status().getNodeId();
    note(err, "fault %d of %d: %s the leader %s", k + 1, faults, fault, node);
    if (fault.equals("kill")) {
      control.kill(
          node,
          at -> {
            java.fault("kill", node, at);
            stub.fault("kill", node, at);
          });
      Thread.sleep(TimeUnit.SECONDS.toMillis(restartAfterSeconds));
      note(err, "restarting %s", node);
      control.script(List.of("restart", node.substring(1)), 120, line -> {});
    } else {
      long at = control.signal(node, "STOP");
      try {
        java.fault("stop", node, at);
        stub.fault("stop", node, at);
        Thread.sleep(TimeUnit.SECONDS.toMillis(stopSeconds));
      } finally {
        control.signal(node, "CONT");
      }
      note(err, "resumed %s (SIGCONT)", node);
    }
  }

  private void onRollLine(String line, FailoverRecorder java, FailoverRecorder stub) {
    Matcher m = ROLL_RESTART.matcher(line);
    if (m.matches()) {
      long at = System.nanoTime();
      java.fault("restart", m.group(1), at);
      stub.fault("restart", m.group(1), at);
      return;
    }
    Matcher d = ROLL_DONE.matcher(line);
    if (d.find()) {
      synchronized (rollSteps) {
        rollSteps.add(new String[] {d.group(1), d.group(2)});
      }
    }
  }

  private void note(PrintWriter err, String format, Object... args) {
    synchronized (err) {
      err.printf("%s%n", String.format(format, args));
      err.flush();
    }
  }

  /** The leader's term now (JSON), or null if no leader answered just now. */
  private static Object leaderTerm(ClusterWatch watch) throws InterruptedException {
    watch.poll();
    ClusterWatch.NodeView leader = watch.leader();
    return leader == null ? null : Json.u64(leader.status().getTerm());
  }

  private static Map<String, Object> leaderChanges(NodeControl control, List<String> nodes)
      throws InterruptedException {
    Map<String, Object> m = Json.object();
    for (String n : nodes) {
      m.put(n, control.leaderChanges(n));
    }
    return m;
  }

  private String[] setUp(CairnClient client, PrintWriter err) {
    String run = Ops.newId().substring(0, 6).replaceAll("[^A-Za-z0-9]", "x");
    String[] names = new String[accounts];
    List<Operation> ops = new ArrayList<>();
    for (int i = 0; i < accounts; i++) {
      names[i] = "failover-" + run + "-" + i;
      ops.add(Ops.createAccount(Ops.newId(), names[i]));
      ops.add(Ops.mint(Ops.newId(), names[i], 1_000_000_000L));
      if (ops.size() >= 500 || i == accounts - 1) {
        for (OperationResult r : client.submit(ops, false).getResultsList()) {
          if (r.getCode() != ResultCode.OK) {
            throw new IllegalStateException("bench set-up failed: " + r.getCode());
          }
        }
        ops.clear();
      }
    }
    note(err, "set up %d accounts (failover-%s-*)", accounts, run);
    return names;
  }

  private int report(
      Map<String, Object> j,
      FailoverRecorder java,
      FailoverRecorder stub,
      long start,
      double seconds) {
    j.put("fault", fault);
    List<Object> faultList = new ArrayList<>();
    for (FailoverRecorder.Fault f : java.faults()) {
      Map<String, Object> one = Json.object();
      one.put("kind", f.kind());
      one.put("node", f.node());
      one.put("at_s", (f.atNanos() - start) / 1e9);
      faultList.add(one);
    }
    j.put("faults", faultList);
    FailoverReport.put(j, "", java, seconds);
    FailoverReport.put(j, "stub_", stub, seconds);
    j.put("stub_stuck_episodes", episodes(stub, start));
    j.put("roll_steps", rollStepsJson());
    j.put("whole_again_s", wholeAgainSeconds);
    j.put("duration_s", seconds);
    j.put("clients", load.clients);
    j.put("stub_clients", stubClients);
    j.put("endpoints", endpoints());
    String human = FailoverText.render(j, java, stub, start, this::settingsLine);
    if (json()) {
      err().println(human);
      err().flush();
    }
    emit(human, j);
    return Cairnctl.OK;
  }

  private List<Object> episodes(FailoverRecorder stub, long start) {
    List<Object> out = new ArrayList<>();
    for (FailoverRecorder.Episode e : stub.episodes()) {
      Map<String, Object> one = Json.object();
      one.put("caller", e.stream());
      one.put("node", e.node());
      one.put("since_s", (e.sinceNanos() - start) / 1e9);
      out.add(one);
    }
    return out;
  }

  private List<Object> rollStepsJson() {
    List<Object> out = new ArrayList<>();
    synchronized (rollSteps) {
      for (String[] s : rollSteps) {
        Map<String, Object> one = Json.object();
        one.put("node", s[0]);
        one.put("seconds", Integer.parseInt(s[1]));
        out.add(one);
      }
    }
    return out;
  }

  private String settingsLine() {
    return String.format(
        "fault %s%s; %d Java client callers (coalescing %s, --timeout %.0f s), %d stub callers"
            + " over %s; restart after %d s, stop %d s, pause %d s, stuck after %d ms",
        fault,
        fault.equals("kill") || fault.equals("stop") ? " x" + faults : "",
        load.clients,
        noCoalesce ? "off" : "on",
        timeoutSeconds(),
        stubClients,
        endpoints(),
        restartAfterSeconds,
        stopSeconds,
        pauseSeconds,
        stuckMillis);
  }
}
