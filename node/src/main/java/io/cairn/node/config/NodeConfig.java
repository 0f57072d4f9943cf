package io.cairn.node.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The node's whole configuration, resolved once at start-up and checked as a whole: every number
 * within its key's range, the log level known, this node one of the peers, the election timeouts
 * ordered. Where the keys are: {@link ConfigKeys}; the profiles: {@link ConfigProfiles}; how the
 * sources are merged: {@link ConfigLoader}.
 *
 * <p>Read a value typed with {@link #get(Key)}, e.g. {@code config.get(ConfigKeys.BATCH_MAX_OPS)};
 * the by-name {@link #get(String)}, {@link #getLong(String)} and {@link #getInt(String)} remain for
 * callers not yet moved to it.
 */
public final class NodeConfig {
  /** Every key the node understands, in the order docs/configuration.md lists them. */
  public static final List<ConfigKey> KEYS = ConfigKeys.SPECS;

  /** Keys a running node re-reads from its config file: see {@link ConfigKeys#HOT}. */
  public static final Set<String> HOT_KEYS = ConfigKeys.HOT;

  /** Coherent groups of limits: see {@link ConfigProfiles}. */
  public static final Map<String, Map<String, String>> PROFILES = ConfigProfiles.ALL;

  private static final Map<String, ConfigKey> BY_NAME = index();

  private static final Set<String> LOG_LEVELS = Set.of("ERROR", "WARN", "INFO", "DEBUG", "TRACE");

  private final ConfigLoader.Sources sources;
  private final Map<String, String> values;
  private final String nodeId;
  private final List<Peer> peers;

  NodeConfig(Map<String, String> values, ConfigLoader.Sources sources) throws ConfigException {
    this.values = values;
    this.sources = sources;
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
    if (get(ConfigKeys.RAFT_ELECTION_TIMEOUT_MAX_MILLIS)
        <= get(ConfigKeys.RAFT_ELECTION_TIMEOUT_MIN_MILLIS)) {
      throw new ConfigException(
          "raft.election.timeout.max.millis: must be greater than raft.election.timeout.min.millis");
    }
  }

  /**
   * Resolves the configuration from a properties file (may be null), the environment and flags.
   *
   * @see ConfigLoader#load(Path, Map, Map)
   */
  public static NodeConfig load(Path file, Map<String, String> env, Map<String, String> flags)
      throws ConfigException {
    return ConfigLoader.load(file, env, flags);
  }

  /**
   * Parses {@code --config FILE} and {@code --set k=v} arguments.
   *
   * @see ConfigLoader#fromArgs(String[], Map)
   */
  public static NodeConfig fromArgs(String[] args, Map<String, String> env) throws ConfigException {
    return ConfigLoader.fromArgs(args, env);
  }

  /** The config file this configuration was read from, or null. */
  public Path file() {
    return sources.file();
  }

  /** Reads the same sources again (the file may have changed); throws if it no longer validates. */
  public NodeConfig reload() throws ConfigException {
    return ConfigLoader.load(sources);
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
    return Path.of(get(ConfigKeys.NODE_DATA_DIR));
  }

  /** The key's value, in the key's type; it was range-checked when this configuration loaded. */
  public <T> T get(Key<T> key) {
    return key.parse(get(key.name()));
  }

  /** The value of the key named {@code name}, as written; prefer {@link #get(Key)}. */
  public String get(String name) {
    if (!BY_NAME.containsKey(name)) {
      throw new IllegalArgumentException("no such config key: " + name);
    }
    return values.get(name);
  }

  /** The numeric value of the key named {@code name}; prefer {@link #get(Key)}. */
  public long getLong(String name) {
    return Long.parseLong(get(name));
  }

  /** The numeric value of the key named {@code name}, as an int; prefer {@link #get(Key)}. */
  public int getInt(String name) {
    return Math.toIntExact(getLong(name));
  }

  /** The resolved values, for logging at start-up. */
  public Map<String, String> asMap() {
    return new TreeMap<>(values);
  }

  static boolean isKey(String name) {
    return BY_NAME.containsKey(name);
  }

  private String require(String name) throws ConfigException {
    String v = values.get(name);
    if (v == null || v.isEmpty()) {
      throw new ConfigException(
          name
              + ": required (set it in the config file, "
              + BY_NAME.get(name).envName()
              + " or --set "
              + name
              + "=...)");
    }
    return v;
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
          throw new ConfigException("cluster.peers: '" + s + "' is not id=host:raftPort:apiPort");
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
