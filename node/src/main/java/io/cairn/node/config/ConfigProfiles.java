package io.cairn.node.config;

import static io.cairn.node.config.ConfigKeys.API_MAX_CONCURRENT_CALLS_PER_CONNECTION;
import static io.cairn.node.config.ConfigKeys.API_MAX_INFLIGHT_BYTES;
import static io.cairn.node.config.ConfigKeys.API_MAX_INFLIGHT_PER_CONNECTION;
import static io.cairn.node.config.ConfigKeys.API_MAX_INFLIGHT_REQUESTS;
import static io.cairn.node.config.ConfigKeys.API_MAX_PENDING_REQUESTS;
import static io.cairn.node.config.ConfigKeys.BATCH_MAX_INFLIGHT_ENTRIES;
import static io.cairn.node.config.ConfigKeys.BATCH_MAX_OPS;
import static io.cairn.node.config.ConfigKeys.LEDGER_DEDUPE_MAX_BYTES;
import static io.cairn.node.config.ConfigKeys.LEDGER_DEDUPE_MAX_ENTRIES;
import static io.cairn.node.config.ConfigKeys.MERKLE_PROOF_CACHE_MAX_BYTES;
import static io.cairn.node.config.ConfigKeys.MIB;
import static io.cairn.node.config.ConfigKeys.RAFT_APPENDER_BUFFER_BYTES;
import static io.cairn.node.config.ConfigKeys.RAFT_APPENDER_OUTSTANDING_MAX;
import static io.cairn.node.config.ConfigKeys.RAFT_GRPC_FLOW_CONTROL_WINDOW_BYTES;
import static io.cairn.node.config.ConfigKeys.RAFT_SNAPSHOT_THRESHOLD_ENTRIES;
import static io.cairn.node.config.ConfigKeys.RAFT_WRITE_ELEMENT_LIMIT;
import static io.cairn.node.config.ConfigKeys.WATCH_MAX_WATCHERS;
import static io.cairn.node.config.ConfigKeys.WATCH_RETENTION_BYTES;

import java.util.Map;
import java.util.TreeMap;

/**
 * Coherent groups of limits, chosen with {@code node.profile}. A profile's values sit between the
 * defaults and the config file, so the file, the environment and flags still override them.
 */
public final class ConfigProfiles {
  private ConfigProfiles() {}

  /** Each profile by name, with the values it sets (as they would be written in the file). */
  public static final Map<String, Map<String, String>> ALL =
      Map.of(
          "balanced",
          Map.of(),
          "low-power",
          Map.ofEntries(
              set(BATCH_MAX_OPS, 512),
              set(BATCH_MAX_INFLIGHT_ENTRIES, 2),
              set(API_MAX_PENDING_REQUESTS, 1024),
              set(API_MAX_INFLIGHT_REQUESTS, 512),
              set(API_MAX_INFLIGHT_BYTES, 16 * MIB),
              set(API_MAX_INFLIGHT_PER_CONNECTION, 128),
              set(API_MAX_CONCURRENT_CALLS_PER_CONNECTION, 256),
              set(MERKLE_PROOF_CACHE_MAX_BYTES, 8 * MIB),
              set(LEDGER_DEDUPE_MAX_ENTRIES, 100_000),
              set(LEDGER_DEDUPE_MAX_BYTES, 32 * MIB),
              set(RAFT_WRITE_ELEMENT_LIMIT, 256),
              set(RAFT_APPENDER_BUFFER_BYTES, 2 * MIB),
              set(RAFT_APPENDER_OUTSTANDING_MAX, 4),
              set(RAFT_GRPC_FLOW_CONTROL_WINDOW_BYTES, MIB),
              set(RAFT_SNAPSHOT_THRESHOLD_ENTRIES, 20_000),
              set(WATCH_RETENTION_BYTES, 16 * MIB),
              set(WATCH_MAX_WATCHERS, 256)),
          "throughput",
          Map.ofEntries(
              set(BATCH_MAX_OPS, 8192),
              set(BATCH_MAX_INFLIGHT_ENTRIES, 16),
              set(API_MAX_PENDING_REQUESTS, 32_768),
              set(API_MAX_INFLIGHT_REQUESTS, 8192),
              set(API_MAX_INFLIGHT_BYTES, 256 * MIB),
              set(API_MAX_INFLIGHT_PER_CONNECTION, 1000),
              set(MERKLE_PROOF_CACHE_MAX_BYTES, 512 * MIB),
              set(LEDGER_DEDUPE_MAX_ENTRIES, 2_000_000),
              set(LEDGER_DEDUPE_MAX_BYTES, 1024 * MIB),
              set(RAFT_WRITE_ELEMENT_LIMIT, 4096),
              set(RAFT_APPENDER_BUFFER_BYTES, 16 * MIB),
              set(RAFT_APPENDER_OUTSTANDING_MAX, 16),
              set(RAFT_GRPC_FLOW_CONTROL_WINDOW_BYTES, 8 * MIB),
              set(RAFT_SNAPSHOT_THRESHOLD_ENTRIES, 200_000)));

  /** The values of the named profile; refuses a name that is not one. */
  static Map<String, String> named(String profile) throws ConfigException {
    Map<String, String> preset = ALL.get(profile);
    if (preset == null) {
      throw new ConfigException(
          "node.profile: '" + profile + "' is not one of " + new TreeMap<>(ALL).keySet());
    }
    return preset;
  }

  private static Map.Entry<String, String> set(Key<?> key, long value) {
    return Map.entry(key.name(), Long.toString(value));
  }
}
