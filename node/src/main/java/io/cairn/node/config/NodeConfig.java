package io.cairn.node.config;

import static io.cairn.node.config.ConfigKey.number;
import static io.cairn.node.config.ConfigKey.text;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The node's whole configuration, resolved once at start-up. Precedence, lowest to highest:
 * defaults, the properties file, {@code CAIRN_*} environment variables, {@code --set key=value}
 * flags. Unknown keys and out-of-range values are refused with a message naming the key.
 */
public final class NodeConfig {
  private static final long KIB = 1024;
  private static final long MIB = 1024 * KIB;

  /** Every key the node understands, in the order the README lists them. */
  public static final List<ConfigKey> KEYS =
      List.of(
          text("node.id", "", "This node's id; must be one of cluster.peers. Required."),
          text(
              "cluster.peers",
              "",
              "Every member as id=host:raftPort:apiPort, comma separated. Required."),
          text("cluster.group", "cairn", "Raft group name; the group id is derived from it."),
          number(
              "cluster.join",
              0,
              "0/1",
              0,
              1,
              "1: on a first start, wait to be added (cairnctl cluster add-member) instead of"
                  + " forming a group from cluster.peers. Ignored once the node has Raft state."),
          text(
              "node.profile",
              "balanced",
              "Preset group of limits: low-power, balanced or throughput (see README)."),
          text("log.level", "INFO", "Level of Cairn's own loggers: ERROR, WARN, INFO, DEBUG, TRACE."),
          text("node.data.dir", "", "Raft log and snapshots (default data/<node.id>)."),
          text("api.bind.host", "", "Address the API binds to (default: host of this peer)."),
          number(
              "metrics.port",
              0,
              "port",
              0,
              65535,
              "HTTP port for /metrics, /health, /ready (0: off; the local cluster uses 730N)."),
          text("metrics.bind.host", "127.0.0.1", "Address the metrics endpoint binds to."),
          number(
              "api.max.request.bytes",
              MIB,
              "bytes",
              1 * KIB,
              64 * MIB,
              "Largest API request; larger ones get INVALID_ARGUMENT."),
          number(
              "api.max.ops.per.request",
              1000,
              "ops",
              1,
              100_000,
              "Operations in one Submit; more get INVALID_ARGUMENT."),
          number(
              "api.max.pending.requests",
              8192,
              "requests",
              1,
              1_000_000,
              "Submits queued for batching on the leader; over it RESOURCE_EXHAUSTED."),
          number(
              "api.max.concurrent.calls.per.connection",
              1024,
              "calls",
              1,
              100_000,
              "gRPC concurrent streams per client connection."),
          number(
              "api.max.inflight.requests",
              2048,
              "requests",
              1,
              1_000_000,
              "API requests being worked on by this node (admitted, not yet answered); over it"
                  + " RESOURCE_EXHAUSTED with a retry hint."),
          number(
              "api.max.inflight.bytes",
              64 * MIB,
              "bytes",
              MIB,
              4096 * MIB,
              "Bytes of the API requests in flight on this node; over it RESOURCE_EXHAUSTED."),
          number(
              "api.max.inflight.per.connection",
              512,
              "requests",
              1,
              100_000,
              "API requests in flight on one client connection; over it RESOURCE_EXHAUSTED"
                  + " (keep it below api.max.concurrent.calls.per.connection to refuse fast"
                  + " rather than queue in the client's transport)."),
          number(
              "api.overload.retry.after.millis",
              50,
              "ms",
              1,
              60_000,
              "retry_after_millis hint sent with an in-flight-limit refusal."),
          number(
              "api.max.connection.idle.millis",
              600_000,
              "ms",
              1_000,
              86_400_000,
              "A client connection with no call for this long is closed (the client reconnects)."),
          number(
              "api.write.timeout.millis",
              10_000,
              "ms",
              100,
              600_000,
              "A write not committed by then is answered OUTCOME_UNKNOWN (retry with same id)."),
          number(
              "api.read.timeout.millis",
              5_000,
              "ms",
              100,
              600_000,
              "Linearizable reads and stale reads waiting for a min index give up after this."),
          number(
              "api.list.max.limit",
              1000,
              "accounts",
              1,
              100_000,
              "Most accounts returned by one ListAccounts call."),
          number(
              "batch.max.ops",
              4096,
              "ops",
              1,
              1_000_000,
              "Operations grouped into one log entry."),
          number(
              "batch.max.bytes",
              2 * MIB,
              "bytes",
              1 * KIB,
              32 * MIB,
              "Encoded size of one log entry (a single request may exceed it alone)."),
          number(
              "batch.max.inflight.entries",
              8,
              "entries",
              1,
              1024,
              "Log entries submitted to Raft and not yet applied, on the leader."),
          number(
              "batch.linger.micros",
              0,
              "us",
              0,
              100_000,
              "Extra wait to fill a batch when the pipeline is idle (0: none)."),
          number(
              "ledger.dedupe.window.millis",
              600_000,
              "ms",
              1_000,
              7L * 24 * 3600 * 1000,
              "How long an operation id is remembered; older operations are EXPIRED."),
          number(
              "ledger.dedupe.max.entries",
              500_000,
              "entries",
              1,
              100_000_000,
              "Most remembered ids; when full the oldest is dropped and the floor raised."),
          number(
              "ledger.max.clock.skew.millis",
              60_000,
              "ms",
              0,
              3_600_000,
              "How far in the future created_at may be before TIMESTAMP_IN_FUTURE."),
          number(
              "ledger.max.accounts",
              1_000_000,
              "accounts",
              1,
              1_000_000_000,
              "Most accounts; further creates get ACCOUNT_LIMIT_REACHED."),
          number(
              "watch.enabled",
              1,
              "0/1",
              0,
              1,
              "1: keep the Watch window. 0: no window and no apply cost; Watch answers"
                  + " FAILED_PRECONDITION (for benchmarks)."),
          number(
              "watch.retention.entries",
              100_000,
              "entries",
              1,
              1_000_000,
              "Ledger entries each node keeps in memory for Watch; older ones are COMPACTED."),
          number(
              "watch.retention.bytes",
              32 * MIB,
              "bytes",
              64 * KIB,
              4096 * MIB,
              "Encoded size of the Watch window (the newest entry is kept even if larger)."),
          number(
              "watch.max.watchers",
              1000,
              "streams",
              1,
              100_000,
              "Concurrent Watch streams per node; more get RESOURCE_EXHAUSTED."),
          number(
              "watch.threads",
              2,
              "threads",
              1,
              64,
              "Threads sending to every watcher (no thread per watcher)."),
          number(
              "merkle.enabled",
              1,
              "0/1",
              0,
              1,
              "1: maintain the state root. 0 is for benchmarks only (roots stay empty, no proofs)."),
          number(
              "merkle.proof.cache.max.entries",
              100_000,
              "proofs",
              0,
              100_000_000,
              "Caffeine cache of built proofs (0 disables it)."),
          number(
              "debug.unsafe.local.reads",
              0,
              "0/1",
              0,
              1,
              "TESTING ONLY. 1 serves linearizable reads locally, skipping ReadIndex: wrong under"
                  + " partitions. The chaos suite sets it to prove its checker catches stale reads."),
          number(
              "debug.clock.offset.millis",
              0,
              "ms",
              -86_400_000,
              86_400_000,
              "TESTING ONLY. Added to this node's wall clock where Cairn reads it (the leader's"
                  + " entry timestamp): the chaos suite's clock-skew fault."),
          number(
              "raft.election.timeout.min.millis",
              1000,
              "ms",
              50,
              60_000,
              "Lower bound of the randomised election timeout."),
          number(
              "raft.election.timeout.max.millis",
              2000,
              "ms",
              100,
              120_000,
              "Upper bound of the randomised election timeout."),
          number(
              "raft.snapshot.threshold.entries",
              50_000,
              "entries",
              1,
              100_000_000,
              "Take a snapshot after this many applied entries since the last one."),
          number(
              "raft.snapshot.chunk.bytes",
              MIB,
              "bytes",
              64 * KIB,
              64 * MIB,
              "Most snapshot bytes per InstallSnapshot message to a follower that needs the"
                  + " snapshot (at most 8 such messages in flight per follower); the gRPC message"
                  + " limit is raised to fit it. Keep it equal on all nodes."),
          number(
              "raft.snapshot.retention",
              2,
              "files",
              1,
              100,
              "Snapshots kept on disk."),
          number(
              "raft.log.purge.gap",
              10_000,
              "entries",
              1,
              100_000_000,
              "Purge log segments this far behind the snapshot."),
          number(
              "raft.log.segment.bytes",
              32 * MIB,
              "bytes",
              MIB,
              1024 * MIB,
              "Raft log segment size."),
          number(
              "raft.write.element.limit",
              1024,
              "entries",
              1,
              65_536,
              "Ratis pending writes on the leader (element bound)."),
          number(
              "raft.write.byte.limit",
              256 * MIB,
              "bytes",
              MIB,
              4096 * MIB,
              "Ratis pending writes on the leader (byte bound)."),
          number(
              "raft.appender.buffer.bytes",
              8 * MIB,
              "bytes",
              64 * KIB,
              256 * MIB,
              "Most bytes per appendEntries batch to a follower."),
          number(
              "raft.appender.outstanding.max",
              8,
              "requests",
              1,
              1024,
              "appendEntries in flight per follower."),
          number(
              "raft.grpc.flow.control.window.bytes",
              4 * MIB,
              "bytes",
              64 * KIB,
              256 * MIB,
              "Flow-control window of Ratis's gRPC channels."));

  private static final Map<String, ConfigKey> BY_NAME = index();

  /**
   * Keys a running node re-reads from its config file when the file changes. Everything else
   * (peers, ports, storage, Raft and ledger limits, queue capacities) is fixed for the life of
   * the process: changing it in the file is logged and ignored until a restart.
   */
  public static final java.util.Set<String> HOT_KEYS =
      java.util.Set.of(
          "log.level",
          "batch.max.ops",
          "batch.linger.micros",
          "api.max.ops.per.request",
          "api.list.max.limit",
          "api.write.timeout.millis",
          "api.read.timeout.millis",
          "api.overload.retry.after.millis",
          "merkle.proof.cache.max.entries");

  /** Coherent groups of limits; a profile's values sit between the defaults and the file. */
  public static final Map<String, Map<String, String>> PROFILES =
      Map.of(
          "balanced",
          Map.of(),
          "low-power",
          Map.ofEntries(
              Map.entry("batch.max.ops", "512"),
              Map.entry("batch.max.inflight.entries", "2"),
              Map.entry("api.max.pending.requests", "1024"),
              Map.entry("api.max.inflight.requests", "512"),
              Map.entry("api.max.inflight.bytes", Long.toString(16 * MIB)),
              Map.entry("api.max.inflight.per.connection", "128"),
              Map.entry("api.max.concurrent.calls.per.connection", "256"),
              Map.entry("merkle.proof.cache.max.entries", "10000"),
              Map.entry("ledger.dedupe.max.entries", "100000"),
              Map.entry("raft.write.element.limit", "256"),
              Map.entry("raft.appender.buffer.bytes", Long.toString(2 * MIB)),
              Map.entry("raft.appender.outstanding.max", "4"),
              Map.entry("raft.grpc.flow.control.window.bytes", Long.toString(MIB)),
              Map.entry("raft.snapshot.threshold.entries", "20000"),
              Map.entry("watch.retention.bytes", Long.toString(16 * MIB)),
              Map.entry("watch.max.watchers", "256")),
          "throughput",
          Map.ofEntries(
              Map.entry("batch.max.ops", "8192"),
              Map.entry("batch.max.inflight.entries", "16"),
              Map.entry("api.max.pending.requests", "32768"),
              Map.entry("api.max.inflight.requests", "8192"),
              Map.entry("api.max.inflight.bytes", Long.toString(256 * MIB)),
              Map.entry("api.max.inflight.per.connection", "1000"),
              Map.entry("merkle.proof.cache.max.entries", "500000"),
              Map.entry("ledger.dedupe.max.entries", "2000000"),
              Map.entry("raft.write.element.limit", "4096"),
              Map.entry("raft.appender.buffer.bytes", Long.toString(16 * MIB)),
              Map.entry("raft.appender.outstanding.max", "16"),
              Map.entry("raft.grpc.flow.control.window.bytes", Long.toString(8 * MIB)),
              Map.entry("raft.snapshot.threshold.entries", "200000")));

  private static final java.util.Set<String> LOG_LEVELS =
      java.util.Set.of("ERROR", "WARN", "INFO", "DEBUG", "TRACE");

  private Path sourceFile;
  private Map<String, String> sourceEnv = Map.of();
  private Map<String, String> sourceFlags = Map.of();

  private final Map<String, String> values;
  private final String nodeId;
  private final List<Peer> peers;

  private NodeConfig(Map<String, String> values) throws ConfigException {
    this.values = values;
    for (ConfigKey key : KEYS) {
      if (key.isNumeric()) {
        checkRange(key, values.get(key.name()));
      }
    }
    if (!LOG_LEVELS.contains(get("log.level"))) {
      throw new ConfigException(
          "log.level: '" + get("log.level") + "' is not one of ERROR, WARN, INFO, DEBUG, TRACE");
    }
    this.nodeId = require("node.id");
    this.peers = Peer.parseList(require("cluster.peers"));
    if (peers.stream().noneMatch(p -> p.id().equals(nodeId))) {
      throw new ConfigException(
          "node.id: '" + nodeId + "' is not one of cluster.peers (" + get("cluster.peers") + ")");
    }
    if (getLong("raft.election.timeout.max.millis")
        <= getLong("raft.election.timeout.min.millis")) {
      throw new ConfigException(
          "raft.election.timeout.max.millis: must be greater than raft.election.timeout.min.millis");
    }
  }

  /**
   * Resolves the configuration from a properties file (may be null), the environment and flags.
   */
  public static NodeConfig load(Path file, Map<String, String> env, Map<String, String> flags)
      throws ConfigException {
    Map<String, String> merged = new LinkedHashMap<>();
    for (ConfigKey key : KEYS) {
      merged.put(key.name(), key.defaultValue());
    }
    Properties props = new Properties();
    if (file != null) {
      try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        props.load(r);
      } catch (IOException e) {
        throw new ConfigException("config file " + file + ": " + e.getMessage());
      }
    }
    // The profile is chosen by the highest-precedence source that names one, then sits just
    // above the defaults so the file, the environment and flags can still override its values.
    String profile =
        flags.getOrDefault(
            "node.profile",
            env.getOrDefault(
                "CAIRN_NODE_PROFILE", props.getProperty("node.profile", "balanced")))
            .trim();
    Map<String, String> preset = PROFILES.get(profile);
    if (preset == null) {
      throw new ConfigException(
          "node.profile: '" + profile + "' is not one of " + new TreeMap<>(PROFILES).keySet());
    }
    merged.putAll(preset);
    if (file != null) {
      for (String name : new TreeMap<>(propsAsMap(props)).keySet()) {
        put(merged, name, props.getProperty(name).trim(), "in " + file);
      }
    }
    for (ConfigKey key : KEYS) {
      String v = env.get(key.envName());
      if (v != null) {
        merged.put(key.name(), v.trim());
      }
    }
    for (Map.Entry<String, String> e : flags.entrySet()) {
      put(merged, e.getKey(), e.getValue().trim(), "in --set");
    }
    if (merged.get("node.data.dir").isEmpty()) {
      merged.put("node.data.dir", "data/" + merged.get("node.id"));
    }
    NodeConfig c = new NodeConfig(merged);
    c.sourceFile = file;
    c.sourceEnv = Map.copyOf(env);
    c.sourceFlags = Map.copyOf(flags);
    return c;
  }

  /** The config file this configuration was read from, or null. */
  public Path file() {
    return sourceFile;
  }

  /** Reads the same sources again (the file may have changed); throws if it no longer validates. */
  public NodeConfig reload() throws ConfigException {
    return load(sourceFile, sourceEnv, sourceFlags);
  }

  /** Parses {@code --config FILE} and {@code --set k=v} arguments. */
  public static NodeConfig fromArgs(String[] args, Map<String, String> env)
      throws ConfigException {
    Path file = null;
    Map<String, String> flags = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if ((a.equals("--config") || a.equals("--set")) && i + 1 >= args.length) {
        throw new ConfigException(a + ": needs a value");
      }
      if (a.equals("--config")) {
        file = Path.of(args[++i]);
      } else if (a.equals("--set")) {
        String kv = args[++i];
        int eq = kv.indexOf('=');
        if (eq <= 0) {
          throw new ConfigException("--set " + kv + ": expected key=value");
        }
        flags.put(kv.substring(0, eq), kv.substring(eq + 1));
      } else {
        throw new ConfigException("unknown argument '" + a + "' (use --config FILE, --set k=v)");
      }
    }
    return load(file, env, flags);
  }

  public String nodeId() {
    return nodeId;
  }

  public List<Peer> peers() {
    return peers;
  }

  public Peer self() {
    return peers.stream().filter(p -> p.id().equals(nodeId)).findFirst().orElseThrow();
  }

  public Path dataDir() {
    return Path.of(get("node.data.dir"));
  }

  public String get(String name) {
    if (!BY_NAME.containsKey(name)) {
      throw new IllegalArgumentException("no such config key: " + name);
    }
    return values.get(name);
  }

  public long getLong(String name) {
    return Long.parseLong(get(name));
  }

  public int getInt(String name) {
    return Math.toIntExact(getLong(name));
  }

  /** The resolved values, for logging at start-up. */
  public Map<String, String> asMap() {
    return new TreeMap<>(values);
  }

  private String require(String name) throws ConfigException {
    String v = values.get(name);
    if (v == null || v.isEmpty()) {
      throw new ConfigException(
          name + ": required (set it in the config file, " + BY_NAME.get(name).envName()
              + " or --set " + name + "=...)");
    }
    return v;
  }

  private static void put(Map<String, String> merged, String name, String value, String where)
      throws ConfigException {
    if (!BY_NAME.containsKey(name)) {
      throw new ConfigException(name + ": unknown key " + where);
    }
    merged.put(name, value);
  }

  private static void checkRange(ConfigKey key, String raw) throws ConfigException {
    long v;
    try {
      v = Long.parseLong(raw);
    } catch (NumberFormatException e) {
      throw new ConfigException(
          key.name() + ": '" + raw + "' is not a whole number (" + key.unit() + ")");
    }
    if (v < key.min() || v > key.max()) {
      throw new ConfigException(
          key.name()
              + ": "
              + v
              + " is out of range ["
              + key.min()
              + ", "
              + key.max()
              + "] "
              + key.unit());
    }
  }

  private static Map<String, String> propsAsMap(Properties p) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String n : p.stringPropertyNames()) {
      m.put(n, p.getProperty(n));
    }
    return m;
  }

  private static Map<String, ConfigKey> index() {
    Map<String, ConfigKey> m = new LinkedHashMap<>();
    for (ConfigKey k : KEYS) {
      m.put(k.name(), k);
    }
    return m;
  }

  /** One cluster member: id, Raft address and API endpoint. */
  public record Peer(String id, String host, int raftPort, int apiPort) {
    public String raftAddress() {
      return host + ":" + raftPort;
    }

    public String apiEndpoint() {
      return host + ":" + apiPort;
    }

    static List<Peer> parseList(String spec) throws ConfigException {
      List<Peer> out = new ArrayList<>();
      for (String item : spec.split(",")) {
        String s = item.trim();
        int eq = s.indexOf('=');
        String[] hp = eq > 0 ? s.substring(eq + 1).split(":") : new String[0];
        if (eq <= 0 || hp.length != 3) {
          throw new ConfigException(
              "cluster.peers: '" + s + "' is not id=host:raftPort:apiPort");
        }
        String id = s.substring(0, eq);
        if (!id.matches("[A-Za-z0-9._-]{1,32}")) {
          throw new ConfigException("cluster.peers: bad peer id '" + id + "'");
        }
        if (out.stream().anyMatch(p -> p.id().equals(id))) {
          throw new ConfigException("cluster.peers: peer id '" + id + "' appears twice");
        }
        out.add(new Peer(id, hp[0], port(hp[1], s), port(hp[2], s)));
      }
      return List.copyOf(out);
    }

    private static int port(String raw, String item) throws ConfigException {
      try {
        int p = Integer.parseInt(raw);
        if (p >= 1 && p <= 65535) {
          return p;
        }
      } catch (NumberFormatException e) {
        // fall through to the error below
      }
      throw new ConfigException(
          "cluster.peers: port '" + raw + "' in '" + item + "' is out of range [1, 65535]");
    }
  }
}
