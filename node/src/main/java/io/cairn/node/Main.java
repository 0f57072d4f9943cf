package io.cairn.node;

import io.cairn.node.api.ApiServer;
import io.cairn.node.config.ConfigException;
import io.cairn.node.config.ConfigKeys;
import io.cairn.node.config.ConfigWatcher;
import io.cairn.node.config.HotSettings;
import io.cairn.node.config.NodeConfig;
import io.cairn.node.ledger.LedgerLimits;
import io.cairn.node.metrics.MetricsServer;
import io.cairn.node.metrics.NodeMetrics;
import io.cairn.node.metrics.RatisMetricsBridge;
import io.cairn.node.raft.LedgerStateMachine;
import io.cairn.node.raft.RaftNode;
import io.cairn.node.raft.WatchWindow;
import io.cairn.node.tls.TlsMaterial;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts one Cairn node: the Ratis server with the ledger state machine, then the public API. Exit
 * codes: 0 after a clean shutdown, 2 for bad configuration, 1 when start-up fails (for example a
 * corrupt snapshot: the node refuses to serve rather than serve wrong state).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    NodeConfig config;
    try {
      config = NodeConfig.fromArgs(args, System.getenv());
    } catch (ConfigException e) {
      System.err.println("cairn-node: configuration error: " + e.getMessage());
      System.exit(2);
      return;
    }
    System.setProperty("cairn.node", config.nodeId());
    // A peer that restarts may come back at a new address under the same name (containers,
    // Kubernetes pods). gRPC re-resolves a name at most once per networkaddress.cache.ttl
    // (30 s by default), during which the leader keeps dialling the old address; 5 s bounds
    // that. Seen in the chaos suite: a restarted follower stuck 30 s behind. A user's own
    // setting wins.
    if (System.getProperty("networkaddress.cache.ttl") == null) {
      System.setProperty("networkaddress.cache.ttl", "5");
      java.security.Security.setProperty("networkaddress.cache.ttl", "5");
    }
    System.setProperty("cairn.log.level", config.get("log.level"));
    org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
    org.slf4j.bridge.SLF4JBridgeHandler.install();
    Logger log = LoggerFactory.getLogger(Main.class);
    try {
      Node node = Node.start(config);
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    log.info("shutting down");
                    node.close();
                    log.info(
                        "stopped cleanly ({} refusals of peers' Raft calls while closing not"
                            + " logged)",
                        ShutdownQuiet.held());
                    stopped.countDown();
                  },
                  "cairn-shutdown"));
      System.out.println(
          "cairn node "
              + config.nodeId()
              + " ready: api "
              + config.self().apiEndpoint()
              + ", raft "
              + config.self().raftAddress()
              + ", data "
              + config.dataDir());
      exitWhenTheGroupCloses(node, stopped, log);
    } catch (Exception e) {
      log.error("start-up failed: {}", e.getMessage(), e);
      System.err.println("cairn-node: start-up failed: " + e.getMessage());
      // halt, not exit: Ratis threads may hold the JVM, and a half-started node must not serve.
      Runtime.getRuntime().halt(1);
    }
  }

  /**
   * A division that closes under us (the leader told this node it was removed from the group, or
   * Raft failed) leaves a process that can only answer NOT_READY: exit instead, so a supervisor or
   * operator sees it. Returns when {@code stopped} (a clean stop) is counted down.
   */
  private static void exitWhenTheGroupCloses(Node node, CountDownLatch stopped, Logger log)
      throws InterruptedException {
    int deadChecks = 0;
    while (!stopped.await(1, TimeUnit.SECONDS)) {
      String state = node.raft().lifeCycleState();
      deadChecks = !state.equals("RUNNING") ? deadChecks + 1 : 0;
      if (deadChecks >= 3) {
        log.error(
            "this node's Raft group is closed (state {}): it was removed from the group, or"
                + " Raft failed (see errors above); exiting. To bring a removed node back: run"
                + " cairnctl cluster add-member for it, then start it again.",
            state);
        System.exit(3);
      }
    }
  }

  /** A running node; also used by tests to run real nodes in one JVM. */
  public static final class Node implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Node.class);
    private final RaftNode raft;
    private final ApiServer api;
    private final NodeMetrics metrics;
    private final MetricsServer metricsServer;
    private final ConfigWatcher watcher;

    private Node(
        RaftNode raft,
        ApiServer api,
        NodeMetrics metrics,
        MetricsServer metricsServer,
        ConfigWatcher watcher) {
      this.raft = raft;
      this.api = api;
      this.metrics = metrics;
      this.metricsServer = metricsServer;
      this.watcher = watcher;
    }

    public static Node start(NodeConfig config) throws Exception {
      LOG.info("starting with {}", config.asMap());
      if (config.getLong("debug.unsafe.local.reads") == 1) {
        LOG.warn("debug.unsafe.local.reads=1: reads are NOT linearizable (testing only)");
      }
      LedgerLimits limits =
          new LedgerLimits(
              config.getLong("ledger.dedupe.window.millis"),
              config.getLong("ledger.dedupe.max.entries"),
              config.getLong("ledger.max.clock.skew.millis"),
              config.getLong("ledger.max.accounts"),
              config.getLong("ledger.max.role.principals"),
              config.getLong("ledger.dedupe.max.bytes"));
      NodeMetrics metrics = new NodeMetrics(config.nodeId());
      LedgerStateMachine sm = newStateMachine(config, limits, metrics);
      TlsMaterial tls = tls(config);
      RaftNode raft = new RaftNode(config, sm, tls);
      raft.start();
      if (!raft.isUp()) {
        raft.close();
        throw new IllegalStateException("the raft group did not start (see errors above)");
      }
      registerRaftGauges(metrics, raft);
      int bridged = RatisMetricsBridge.bind(metrics.registry());
      LOG.info("exporting {} Ratis metrics through /metrics", bridged);
      HotSettings hot = new HotSettings(config);
      registerHotGauges(metrics, hot);
      ConfigWatcher watcher = newConfigWatcher(config, hot, sm, metrics);
      ApiServer api = new ApiServer(config, raft, metrics, hot, tls);
      MetricsServer metricsServer = null;
      try {
        api.start();
        int port = config.getInt("metrics.port");
        if (port > 0) {
          metricsServer =
              new MetricsServer(
                  config.get("metrics.bind.host"), port, metrics.prometheus(), raft::knowsLeader);
          metricsServer.start();
        }
      } catch (Exception e) {
        api.close();
        raft.close();
        throw e;
      }
      watcher.start();
      return new Node(raft, api, metrics, metricsServer, watcher);
    }

    /** This node's certificates (checked against the CA before any port opens), or null. */
    private static TlsMaterial tls(NodeConfig config) throws java.io.IOException {
      if (!config.get(ConfigKeys.TLS_ENABLED)) {
        LOG.warn(
            "tls.enabled=0: the API and Raft ports are PLAINTEXT and every caller acts as {}"
                + " (benchmarks only)",
            config.get(ConfigKeys.AUTH_BOOTSTRAP_ADMIN));
        return null;
      }
      TlsMaterial tls =
          TlsMaterial.load(
              java.nio.file.Path.of(config.get(ConfigKeys.TLS_CERT_FILE)),
              java.nio.file.Path.of(config.get(ConfigKeys.TLS_KEY_FILE)),
              java.nio.file.Path.of(config.get(ConfigKeys.TLS_CA_FILE)));
      String cn = TlsMaterial.principalOf(tls.certificate());
      if (!cn.equals(TlsMaterial.PEER_PREFIX + config.nodeId())) {
        throw new IllegalStateException(
            config.get(ConfigKeys.TLS_CERT_FILE)
                + " names CN="
                + cn
                + ", not "
                + TlsMaterial.PEER_PREFIX
                + config.nodeId()
                + " (make one with: cairnctl cert create-node "
                + config.nodeId()
                + " HOST...)");
      }
      LOG.info(
          "TLS on: {} signed by {}; Raft TLS through {}",
          cn,
          tls.ca().getSubjectX500Principal(),
          io.cairn.node.raft.RaftNode.peerSslProvider());
      return tls;
    }

    private static LedgerStateMachine newStateMachine(
        NodeConfig config, LedgerLimits limits, NodeMetrics metrics) {
      return new LedgerStateMachine(
          config.nodeId(),
          limits,
          config.getLong("merkle.proof.cache.max.bytes"),
          config.getLong("merkle.enabled") == 1,
          config.getInt("api.max.pending.requests"),
          metrics,
          config.getLong("watch.enabled") == 1
              ? new WatchWindow(
                  config.getInt("watch.retention.entries"), config.getLong("watch.retention.bytes"))
              : WatchWindow.disabled(),
          new io.cairn.node.store.HistoryStore.Settings(
              config.getLong("store.block.cache.bytes"),
              config.getLong("store.write.buffer.bytes")));
    }

    private static void registerHotGauges(NodeMetrics metrics, HotSettings hot) {
      hot.view()
          .forEach(
              (key, value) ->
                  io.micrometer.core.instrument.Gauge.builder(
                          "cairn.config.value", value, v -> v.get())
                      .tag("key", key)
                      .description("Live value of a hot-reloadable configuration key")
                      .register(metrics.registry()));
    }

    /** Applies a hot key's new value where it lives: the log level, the proof cache size. */
    private static ConfigWatcher newConfigWatcher(
        NodeConfig config, HotSettings hot, LedgerStateMachine sm, NodeMetrics metrics) {
      return new ConfigWatcher(
          config,
          hot,
          (key, value) -> {
            if (key.equals("log.level")) {
              ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("io.cairn"))
                  .setLevel(ch.qos.logback.classic.Level.toLevel(value));
            } else if (key.equals("merkle.proof.cache.max.bytes")) {
              sm.setProofCacheBytes(Long.parseLong(value));
            }
          },
          outcome -> metrics.configReload(outcome.name().toLowerCase(java.util.Locale.ROOT)));
    }

    private static void registerRaftGauges(NodeMetrics m, RaftNode raft) {
      LedgerStateMachine sm = raft.stateMachine();
      m.gauge(
          "cairn.raft.applied.index", "Last applied log index", () -> sm.stamp().getAppliedIndex());
      m.gauge("cairn.raft.commit.index", "Last committed log index known here", raft::commitIndex);
      m.gauge("cairn.raft.term", "Current term", () -> raft.status().term());
      m.gauge(
          "cairn.raft.is.leader",
          "1 when this node is the leader",
          () -> raft.status().isLeader() ? 1 : 0);
      m.gauge(
          "cairn.raft.follower.lag.max",
          "On the leader: entries the slowest follower is behind the commit index (0 elsewhere)",
          raft::followerLagMax);
      m.gauge(
          "cairn.state.root.prefix",
          "First 48 bits of the state root; replicas at the same applied index must agree",
          () -> {
            byte[] root = sm.stamp().getStateRoot().toByteArray();
            long v = 0;
            for (int i = 0; i < 6 && i < root.length; i++) {
              v = (v << 8) | (root[i] & 0xff);
            }
            return v;
          });
      m.gauge(
          "cairn.ledger.accounts",
          "Accounts in the ledger",
          () -> sm.read(v -> v.ledger().totals().accountCount()));
      m.gauge(
          "cairn.ledger.dedupe.entries",
          "Operation ids remembered for exactly-once",
          () -> sm.read(v -> v.ledger().totals().dedupeEntries()));
      m.gauge(
          "cairn.ledger.dedupe.bytes",
          "Heap taken by the remembered operations (bounded by ledger.dedupe.max.bytes)",
          () -> sm.read(v -> v.ledger().dedupeBytes()));
      m.gauge(
          "cairn.merkle.cache.bytes",
          "Estimated heap of cached proofs (bounded by merkle.proof.cache.max.bytes)",
          () -> sm.read(v -> v.tree().proofCacheBytes()));
      m.gauge(
          "cairn.merkle.cache.hits",
          "Proof cache hits",
          () -> sm.read(v -> v.tree().cacheStats().hitCount()));
      m.gauge(
          "cairn.merkle.cache.misses",
          "Proof cache misses",
          () -> sm.read(v -> v.tree().cacheStats().missCount()));
      m.gauge(
          "cairn.merkle.cache.evictions",
          "Proof cache evictions",
          () -> sm.read(v -> v.tree().cacheStats().evictionCount()));
    }

    public RaftNode raft() {
      return raft;
    }

    public int metricsPort() {
      return metricsServer == null ? 0 : metricsServer.port();
    }

    @Override
    public void close() {
      // A leader that stops hands over first, so writers wait for a handover (tens of ms), not
      // for an election timeout. Calls still arriving here are forwarded to the new leader while
      // the API drains (ApiServer#close waits for calls in flight).
      ShutdownQuiet.stopping();
      long started = System.nanoTime();
      String next = raft.handOverLeadership(3_000);
      if (!next.isEmpty()) {
        LOG.info(
            "handed leadership to {} in {} ms before stopping",
            next,
            (System.nanoTime() - started) / 1_000_000);
      }
      watcher.close();
      if (metricsServer != null) {
        metricsServer.close();
      }
      api.close();
      try {
        raft.close();
      } catch (Exception e) {
        LOG.warn("raft close failed: {}", e.toString());
      }
      metrics.close();
    }
  }
}
