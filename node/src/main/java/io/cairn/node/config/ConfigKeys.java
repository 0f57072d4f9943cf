package io.cairn.node.config;

import java.util.List;
import java.util.Set;

/**
 * The key table: every key the node understands, with its default, unit, range and what it bounds,
 * in the order docs/configuration.md lists them. Its table is generated from {@link #ALL} ({@link
 * ConfigDoc}), so the docs cannot drift from the code. Read a value with {@link
 * NodeConfig#get(Key)}.
 */
public final class ConfigKeys {
  private ConfigKeys() {}

  static final long KIB = 1024;
  static final long MIB = 1024 * KIB;

  public static final Key<String> NODE_ID =
      Key.text("node.id", "", "This node's id; must be one of cluster.peers. Required.");

  public static final Key<String> CLUSTER_PEERS =
      Key.text(
          "cluster.peers",
          "",
          "Every member as id=host:raftPort:apiPort, comma separated. Required.");

  public static final Key<String> CLUSTER_GROUP =
      Key.text("cluster.group", "cairn", "Raft group name; the group id is derived from it.");

  public static final Key<Boolean> CLUSTER_JOIN =
      Key.flag(
          "cluster.join",
          false,
          "1: on a first start, wait to be added (cairnctl cluster add-member) instead of"
              + " forming a group from cluster.peers. Ignored once the node has Raft state.");

  public static final Key<String> NODE_PROFILE =
      Key.text(
          "node.profile",
          "balanced",
          "Preset group of limits: low-power, balanced or throughput (see docs/configuration.md).");

  public static final Key<String> LOG_LEVEL =
      Key.text(
          "log.level", "INFO", "Level of Cairn's own loggers: ERROR, WARN, INFO, DEBUG, TRACE.");

  public static final Key<String> NODE_DATA_DIR =
      Key.text("node.data.dir", "", "Raft log and snapshots (default data/<node.id>).");

  public static final Key<String> API_BIND_HOST =
      Key.text("api.bind.host", "", "Address the API binds to (default: host of this peer).");

  public static final Key<Boolean> TLS_ENABLED =
      Key.flag(
          "tls.enabled",
          true,
          "1: TLS 1.3 with required client certificates on the API port and mutual TLS between"
              + " peers on the Raft port. 0 (benchmarks only): plaintext, and every caller acts"
              + " as auth.bootstrap.admin.");

  public static final Key<String> TLS_CA_FILE =
      Key.text(
          "tls.ca.file",
          "certs/ca.crt",
          "PEM file of the CA whose certificates this node trusts (clients and peers).");

  public static final Key<String> TLS_CERT_FILE =
      Key.text(
          "tls.cert.file",
          "",
          "PEM certificate of this node, CN node:<node.id> (default certs/node.<node.id>.crt).");

  public static final Key<String> TLS_KEY_FILE =
      Key.text(
          "tls.key.file",
          "",
          "PKCS#8 PEM private key of this node (default certs/node.<node.id>.key).");

  public static final Key<String> AUTH_BOOTSTRAP_ADMIN =
      Key.text(
          "auth.bootstrap.admin",
          "admin",
          "Principal (certificate CN) that holds every right without a granted role: the first"
              + " admin. Set the same on every node; empty: none.");

  public static final Key<Integer> RAFT_LOCAL_ADMIN_PORT =
      Key.intNumber(
          "raft.local.admin.port",
          0,
          "port",
          0,
          65535,
          "Loopback port of Ratis's own admin service (0: any free port). Cairn never calls it;"
              + " it is bound to 127.0.0.1 with peer TLS so that no remote caller reaches it.");

  public static final Key<Integer> RAFT_LOCAL_CLIENT_PORT =
      Key.intNumber(
          "raft.local.client.port",
          0,
          "port",
          0,
          65535,
          "Loopback port of Ratis's own client service (0: any free port); as above.");

  public static final Key<Integer> METRICS_PORT =
      Key.intNumber(
          "metrics.port",
          0,
          "port",
          0,
          65535,
          "HTTP port for /metrics, /health, /ready (0: off; the local cluster uses 730N).");

  public static final Key<String> METRICS_BIND_HOST =
      Key.text("metrics.bind.host", "127.0.0.1", "Address the metrics endpoint binds to.");

  public static final Key<Long> API_MAX_REQUEST_BYTES =
      Key.longNumber(
          "api.max.request.bytes",
          MIB,
          "bytes",
          1 * KIB,
          64 * MIB,
          "Largest API request; gRPC refuses a larger one from its length prefix, before buffering"
              + " it (RESOURCE_EXHAUSTED, no detail, not retried).");

  public static final Key<Integer> API_MAX_OPS_PER_REQUEST =
      Key.intNumber(
          "api.max.ops.per.request",
          1000,
          "ops",
          1,
          100_000,
          "Operations in one Submit; more get INVALID_ARGUMENT.");

  public static final Key<Integer> API_MAX_PENDING_REQUESTS =
      Key.intNumber(
          "api.max.pending.requests",
          8192,
          "requests",
          1,
          1_000_000,
          "Submits queued for batching on the leader; over it RESOURCE_EXHAUSTED.");

  public static final Key<Integer> API_MAX_CONCURRENT_CALLS_PER_CONNECTION =
      Key.intNumber(
          "api.max.concurrent.calls.per.connection",
          1024,
          "calls",
          1,
          100_000,
          "gRPC concurrent streams per client connection.");

  public static final Key<Integer> API_MAX_INFLIGHT_REQUESTS =
      Key.intNumber(
          "api.max.inflight.requests",
          2048,
          "requests",
          1,
          1_000_000,
          "API requests being worked on by this node (admitted, not yet answered); over it"
              + " RESOURCE_EXHAUSTED with a retry hint.");

  public static final Key<Long> API_MAX_INFLIGHT_BYTES =
      Key.longNumber(
          "api.max.inflight.bytes",
          64 * MIB,
          "bytes",
          MIB,
          4096 * MIB,
          "Bytes of the API requests in flight on this node; over it RESOURCE_EXHAUSTED.");

  public static final Key<Integer> API_MAX_INFLIGHT_PER_CONNECTION =
      Key.intNumber(
          "api.max.inflight.per.connection",
          512,
          "requests",
          1,
          100_000,
          "API requests in flight on one client connection; over it RESOURCE_EXHAUSTED"
              + " (keep it below api.max.concurrent.calls.per.connection to refuse fast"
              + " rather than queue in the client's transport).");

  public static final Key<Long> API_OVERLOAD_RETRY_AFTER_MILLIS =
      Key.longNumber(
          "api.overload.retry.after.millis",
          50,
          "ms",
          1,
          60_000,
          "retry_after_millis hint sent with an in-flight-limit refusal.");

  public static final Key<Long> API_MAX_CONNECTION_IDLE_MILLIS =
      Key.longNumber(
          "api.max.connection.idle.millis",
          600_000,
          "ms",
          1_000,
          86_400_000,
          "A client connection with no call for this long is closed (the client reconnects).");

  public static final Key<Integer> API_MAX_CONNECTIONS =
      Key.intNumber(
          "api.max.connections",
          10_000,
          "connections",
          1,
          1_000_000,
          "Open API connections in all; more are closed at accept, before their TLS handshake.");

  public static final Key<Integer> API_MAX_CONNECTIONS_PER_ADDRESS =
      Key.intNumber(
          "api.max.connections.per.address",
          1_000,
          "connections",
          1,
          1_000_000,
          "Open API connections from one peer IP address (clients behind one NAT or load"
              + " balancer share it); more are closed at accept.");

  public static final Key<Long> API_RECEIVE_TIMEOUT_MILLIS =
      Key.longNumber(
          "api.receive.timeout.millis",
          10_000,
          "ms",
          1_000,
          600_000,
          "A call whose request has not fully arrived this long after its headers is closed"
              + " (DEADLINE_EXCEEDED, never applied), so a client that trickles bytes or never"
              + " sends its body holds no buffer or call slot for long. Checked once a second.");

  public static final Key<Long> API_MAX_CONNECTION_AGE_MILLIS =
      Key.longNumber(
          "api.max.connection.age.millis",
          3_600_000,
          "ms",
          10_000,
          604_800_000,
          "A client connection older than this is asked to go (GOAWAY); the client reconnects,"
              + " and a Watch resumes where it was.");

  public static final Key<Long> API_MAX_CONNECTION_AGE_GRACE_MILLIS =
      Key.longNumber(
          "api.max.connection.age.grace.millis",
          30_000,
          "ms",
          1_000,
          3_600_000,
          "How long calls on a connection past its age may still finish before it is closed.");

  public static final Key<Boolean> API_FORWARD_ENABLED =
      Key.flag(
          "api.forward.enabled",
          true,
          "1: a follower forwards writes, linearizable reads and membership changes to the"
              + " leader and relays its answer. 0: it answers NOT_LEADER with the leader's"
              + " endpoint.");

  public static final Key<Long> API_WRITE_TIMEOUT_MILLIS =
      Key.longNumber(
          "api.write.timeout.millis",
          10_000,
          "ms",
          100,
          600_000,
          "A write not committed by then is answered OUTCOME_UNKNOWN (retry with same id).");

  public static final Key<Long> API_READ_TIMEOUT_MILLIS =
      Key.longNumber(
          "api.read.timeout.millis",
          5_000,
          "ms",
          100,
          600_000,
          "Linearizable reads and stale reads waiting for a min index give up after this.");

  public static final Key<Integer> API_LIST_MAX_LIMIT =
      Key.intNumber(
          "api.list.max.limit",
          1000,
          "accounts",
          1,
          100_000,
          "Most accounts (ListAccounts) or principals (ListRoles) returned in one page.");

  public static final Key<Integer> BATCH_MAX_OPS =
      Key.intNumber(
          "batch.max.ops", 4096, "ops", 1, 1_000_000, "Operations grouped into one log entry.");

  public static final Key<Long> BATCH_MAX_BYTES =
      Key.longNumber(
          "batch.max.bytes",
          2 * MIB,
          "bytes",
          1 * KIB,
          32 * MIB,
          "Encoded size of one log entry (a single request may exceed it alone).");

  public static final Key<Integer> BATCH_MAX_INFLIGHT_ENTRIES =
      Key.intNumber(
          "batch.max.inflight.entries",
          8,
          "entries",
          1,
          1024,
          "Log entries submitted to Raft and not yet applied, on the leader.");

  public static final Key<Long> BATCH_LINGER_MICROS =
      Key.longNumber(
          "batch.linger.micros",
          0,
          "us",
          0,
          100_000,
          "Extra wait to fill a batch when the pipeline is idle (0: none).");

  public static final Key<Long> LEDGER_DEDUPE_WINDOW_MILLIS =
      Key.longNumber(
          "ledger.dedupe.window.millis",
          600_000,
          "ms",
          1_000,
          7L * 24 * 3600 * 1000,
          "How long an operation id is remembered; older operations are EXPIRED.");

  public static final Key<Integer> LEDGER_DEDUPE_MAX_ENTRIES =
      Key.intNumber(
          "ledger.dedupe.max.entries",
          500_000,
          "entries",
          1,
          100_000_000,
          "Most remembered ids; when full the oldest is dropped and the floor raised.");

  public static final Key<Long> LEDGER_DEDUPE_MAX_BYTES =
      Key.longNumber(
          "ledger.dedupe.max.bytes",
          256L << 20,
          "bytes",
          1L << 20,
          64L << 30,
          "Most heap the remembered operations may take; when full the oldest is dropped.");

  public static final Key<Long> LEDGER_MAX_CLOCK_SKEW_MILLIS =
      Key.longNumber(
          "ledger.max.clock.skew.millis",
          60_000,
          "ms",
          0,
          3_600_000,
          "How far in the future created_at may be before TIMESTAMP_IN_FUTURE.");

  public static final Key<Integer> LEDGER_MAX_ACCOUNTS =
      Key.intNumber(
          "ledger.max.accounts",
          1_000_000,
          "accounts",
          1,
          1_000_000_000,
          "Most accounts; further creates get ACCOUNT_LIMIT_REACHED.");

  public static final Key<Integer> LEDGER_MAX_ROLE_PRINCIPALS =
      Key.intNumber(
          "ledger.max.role.principals",
          100_000,
          "principals",
          1,
          10_000_000,
          "Most principals holding a role; a grant to one more gets ROLE_LIMIT_REACHED. The same"
              + " on every node.");

  public static final Key<Boolean> WATCH_ENABLED =
      Key.flag(
          "watch.enabled",
          true,
          "1: keep the Watch window. 0: no window and no apply cost; Watch answers"
              + " FAILED_PRECONDITION (for benchmarks).");

  public static final Key<Integer> WATCH_RETENTION_ENTRIES =
      Key.intNumber(
          "watch.retention.entries",
          100_000,
          "entries",
          1,
          1_000_000,
          "Ledger entries each node keeps in memory for Watch; older ones are COMPACTED.");

  public static final Key<Long> WATCH_RETENTION_BYTES =
      Key.longNumber(
          "watch.retention.bytes",
          32 * MIB,
          "bytes",
          64 * KIB,
          4096 * MIB,
          "Encoded size of the Watch window (the newest entry is kept even if larger).");

  public static final Key<Long> STORE_BLOCK_CACHE_BYTES =
      Key.longNumber(
          "store.block.cache.bytes",
          32 * MIB,
          "bytes",
          1 * MIB,
          64 * 1024 * MIB,
          "RocksDB block cache of the history store (index and filter blocks included).");

  public static final Key<Long> STORE_WRITE_BUFFER_BYTES =
      Key.longNumber(
          "store.write.buffer.bytes",
          16 * MIB,
          "bytes",
          1 * MIB,
          4096 * MIB,
          "RocksDB memtable size of the history store (at most two in memory).");

  public static final Key<Long> NODE_DATA_MIN_FREE_BYTES =
      Key.longNumber(
          "node.data.min.free.bytes",
          1024 * MIB,
          "bytes",
          0,
          1L << 50,
          "Free-space watermark of node.data.dir's file system, checked once a second. Below it"
              + " the node is low on space (WARN, cairn.data.dir.low.space=1) and, while any member"
              + " is, the leader refuses writes with NO_SPACE; reads go on. Writable again once"
              + " free space is 10% above it. 0: no watermark. Reloads without a restart.");

  public static final Key<Integer> WATCH_MAX_WATCHERS =
      Key.intNumber(
          "watch.max.watchers",
          1000,
          "streams",
          1,
          100_000,
          "Concurrent Watch streams per node; more get RESOURCE_EXHAUSTED.");

  public static final Key<Integer> WATCH_MAX_WATCHERS_PER_PRINCIPAL =
      Key.intNumber(
          "watch.max.watchers.per.principal",
          100,
          "streams",
          1,
          100_000,
          "Concurrent Watch streams of one client principal (certificate CN); more get"
              + " RESOURCE_EXHAUSTED, so one client cannot take every stream.");

  public static final Key<Long> WATCH_MAX_AHEAD_ENTRIES =
      Key.longNumber(
          "watch.max.ahead.entries",
          1_000_000L,
          "entries",
          0L,
          Long.MAX_VALUE / 4,
          "How far past this node's newest entry a Watch from_index may point (a client resuming"
              + " on a lagging follower); further is OUT_OF_RANGE.");

  public static final Key<Integer> WATCH_THREADS =
      Key.intNumber(
          "watch.threads",
          2,
          "threads",
          1,
          64,
          "Threads sending to every watcher (no thread per watcher).");

  public static final Key<Boolean> MERKLE_ENABLED =
      Key.flag(
          "merkle.enabled",
          true,
          "1: maintain the state root. 0 is for benchmarks only (roots stay empty, no proofs).");

  public static final Key<Long> MERKLE_PROOF_CACHE_MAX_BYTES =
      Key.longNumber(
          "merkle.proof.cache.max.bytes",
          64L << 20,
          "bytes",
          0,
          16L << 30,
          "Caffeine cache of built proofs, bounded by their estimated heap bytes (0 disables it).");

  public static final Key<Boolean> DEBUG_UNSAFE_LOCAL_READS =
      Key.flag(
          "debug.unsafe.local.reads",
          false,
          "TESTING ONLY. 1 serves linearizable reads locally, skipping ReadIndex: wrong under"
              + " partitions. The chaos suite sets it to prove its checker catches stale reads.");

  public static final Key<Boolean> DEBUG_SKIP_SIGNATURE_CHECKS =
      Key.flag(
          "debug.skip.signature.checks",
          false,
          "BENCHMARKS ONLY. 1: the leader does not verify signed debits (it still requires that"
              + " the account has a key): measures what the checks cost. Never in production.");

  public static final Key<Long> DEBUG_CLOCK_OFFSET_MILLIS =
      Key.longNumber(
          "debug.clock.offset.millis",
          0,
          "ms",
          -86_400_000,
          86_400_000,
          "TESTING ONLY. Added to this node's wall clock where Cairn reads it (the leader's"
              + " entry timestamp, the clock it shows its peers): the chaos suite's clock-skew"
              + " and clock-jump faults. Reloads without a restart.");

  public static final Key<Integer> RAFT_CLOCK_STEP_DOWN_CHECKS =
      Key.intNumber(
          "raft.clock.step.down.checks",
          3,
          "checks",
          0,
          3600,
          "Clock checks in a row (one a second) that must find this node's clock off its"
              + " majority's before, as leader, it hands leadership to a member whose clock agrees"
              + " (at most once per 30 s). 0: never; it stamps the majority's time instead."
              + " Reloads without a restart.");

  public static final Key<Long> RAFT_ELECTION_TIMEOUT_MIN_MILLIS =
      Key.longNumber(
          "raft.election.timeout.min.millis",
          150,
          "ms",
          50,
          60_000,
          "Lower bound of the randomised election timeout; the leader sends heartbeats every"
              + " half of it. Chosen by measurement (docs/internals.md, \"Elections\").");

  public static final Key<Long> RAFT_ELECTION_TIMEOUT_MAX_MILLIS =
      Key.longNumber(
          "raft.election.timeout.max.millis",
          300,
          "ms",
          100,
          120_000,
          "Upper bound of the randomised election timeout.");

  public static final Key<Integer> RAFT_SNAPSHOT_THRESHOLD_ENTRIES =
      Key.intNumber(
          "raft.snapshot.threshold.entries",
          50_000,
          "entries",
          1,
          100_000_000,
          "Take a snapshot after this many applied entries since the last one.");

  public static final Key<Long> RAFT_SNAPSHOT_CHUNK_BYTES =
      Key.longNumber(
          "raft.snapshot.chunk.bytes",
          MIB,
          "bytes",
          64 * KIB,
          64 * MIB,
          "Most snapshot bytes per InstallSnapshot message to a follower that needs the"
              + " snapshot (at most 8 such messages in flight per follower); the gRPC message"
              + " limit is raised to fit it. Keep it equal on all nodes.");

  public static final Key<Integer> RAFT_SNAPSHOT_RETENTION =
      Key.intNumber("raft.snapshot.retention", 2, "files", 1, 100, "Snapshots kept on disk.");

  public static final Key<Integer> RAFT_LOG_PURGE_GAP =
      Key.intNumber(
          "raft.log.purge.gap",
          10_000,
          "entries",
          1,
          100_000_000,
          "Purge log segments this far behind the snapshot.");

  public static final Key<Long> RAFT_LOG_SEGMENT_BYTES =
      Key.longNumber(
          "raft.log.segment.bytes", 32 * MIB, "bytes", MIB, 1024 * MIB, "Raft log segment size.");

  public static final Key<Integer> RAFT_WRITE_ELEMENT_LIMIT =
      Key.intNumber(
          "raft.write.element.limit",
          1024,
          "entries",
          1,
          65_536,
          "Ratis pending writes on the leader (element bound).");

  public static final Key<Long> RAFT_WRITE_BYTE_LIMIT =
      Key.longNumber(
          "raft.write.byte.limit",
          256 * MIB,
          "bytes",
          MIB,
          4096 * MIB,
          "Ratis pending writes on the leader (byte bound).");

  public static final Key<Long> RAFT_APPENDER_BUFFER_BYTES =
      Key.longNumber(
          "raft.appender.buffer.bytes",
          8 * MIB,
          "bytes",
          64 * KIB,
          256 * MIB,
          "Most bytes per appendEntries batch to a follower.");

  public static final Key<Integer> RAFT_APPENDER_OUTSTANDING_MAX =
      Key.intNumber(
          "raft.appender.outstanding.max",
          8,
          "requests",
          1,
          1024,
          "appendEntries in flight per follower.");

  public static final Key<Long> RAFT_GRPC_FLOW_CONTROL_WINDOW_BYTES =
      Key.longNumber(
          "raft.grpc.flow.control.window.bytes",
          4 * MIB,
          "bytes",
          64 * KIB,
          256 * MIB,
          "Flow-control window of Ratis's gRPC channels.");

  /** Every key, in the order docs/configuration.md lists them. */
  public static final List<Key<?>> ALL =
      List.of(
          NODE_ID,
          CLUSTER_PEERS,
          CLUSTER_GROUP,
          CLUSTER_JOIN,
          NODE_PROFILE,
          LOG_LEVEL,
          NODE_DATA_DIR,
          API_BIND_HOST,
          TLS_ENABLED,
          TLS_CA_FILE,
          TLS_CERT_FILE,
          TLS_KEY_FILE,
          AUTH_BOOTSTRAP_ADMIN,
          RAFT_LOCAL_ADMIN_PORT,
          RAFT_LOCAL_CLIENT_PORT,
          METRICS_PORT,
          METRICS_BIND_HOST,
          API_MAX_REQUEST_BYTES,
          API_MAX_OPS_PER_REQUEST,
          API_MAX_PENDING_REQUESTS,
          API_MAX_CONCURRENT_CALLS_PER_CONNECTION,
          API_MAX_INFLIGHT_REQUESTS,
          API_MAX_INFLIGHT_BYTES,
          API_MAX_INFLIGHT_PER_CONNECTION,
          API_OVERLOAD_RETRY_AFTER_MILLIS,
          API_MAX_CONNECTION_IDLE_MILLIS,
          API_MAX_CONNECTIONS,
          API_MAX_CONNECTIONS_PER_ADDRESS,
          API_RECEIVE_TIMEOUT_MILLIS,
          API_MAX_CONNECTION_AGE_MILLIS,
          API_MAX_CONNECTION_AGE_GRACE_MILLIS,
          API_FORWARD_ENABLED,
          API_WRITE_TIMEOUT_MILLIS,
          API_READ_TIMEOUT_MILLIS,
          API_LIST_MAX_LIMIT,
          BATCH_MAX_OPS,
          BATCH_MAX_BYTES,
          BATCH_MAX_INFLIGHT_ENTRIES,
          BATCH_LINGER_MICROS,
          LEDGER_DEDUPE_WINDOW_MILLIS,
          LEDGER_DEDUPE_MAX_ENTRIES,
          LEDGER_DEDUPE_MAX_BYTES,
          LEDGER_MAX_CLOCK_SKEW_MILLIS,
          LEDGER_MAX_ACCOUNTS,
          LEDGER_MAX_ROLE_PRINCIPALS,
          WATCH_ENABLED,
          WATCH_RETENTION_ENTRIES,
          WATCH_RETENTION_BYTES,
          STORE_BLOCK_CACHE_BYTES,
          STORE_WRITE_BUFFER_BYTES,
          NODE_DATA_MIN_FREE_BYTES,
          WATCH_MAX_WATCHERS,
          WATCH_MAX_WATCHERS_PER_PRINCIPAL,
          WATCH_MAX_AHEAD_ENTRIES,
          WATCH_THREADS,
          MERKLE_ENABLED,
          MERKLE_PROOF_CACHE_MAX_BYTES,
          DEBUG_UNSAFE_LOCAL_READS,
          DEBUG_SKIP_SIGNATURE_CHECKS,
          DEBUG_CLOCK_OFFSET_MILLIS,
          RAFT_CLOCK_STEP_DOWN_CHECKS,
          RAFT_ELECTION_TIMEOUT_MIN_MILLIS,
          RAFT_ELECTION_TIMEOUT_MAX_MILLIS,
          RAFT_SNAPSHOT_THRESHOLD_ENTRIES,
          RAFT_SNAPSHOT_CHUNK_BYTES,
          RAFT_SNAPSHOT_RETENTION,
          RAFT_LOG_PURGE_GAP,
          RAFT_LOG_SEGMENT_BYTES,
          RAFT_WRITE_ELEMENT_LIMIT,
          RAFT_WRITE_BYTE_LIMIT,
          RAFT_APPENDER_BUFFER_BYTES,
          RAFT_APPENDER_OUTSTANDING_MAX,
          RAFT_GRPC_FLOW_CONTROL_WINDOW_BYTES);

  /** The same keys as plain specs (name, default, unit, range, description). */
  public static final List<ConfigKey> SPECS = ALL.stream().map(Key::spec).toList();

  /**
   * Keys a running node re-reads from its config file when the file changes. Everything else
   * (peers, ports, storage, Raft and ledger limits, queue capacities) is fixed for the life of the
   * process: changing it in the file is logged and ignored until a restart.
   */
  public static final Set<String> HOT =
      Set.of(
          LOG_LEVEL.name(),
          BATCH_MAX_OPS.name(),
          BATCH_LINGER_MICROS.name(),
          API_MAX_OPS_PER_REQUEST.name(),
          API_LIST_MAX_LIMIT.name(),
          API_WRITE_TIMEOUT_MILLIS.name(),
          API_READ_TIMEOUT_MILLIS.name(),
          API_OVERLOAD_RETRY_AFTER_MILLIS.name(),
          MERKLE_PROOF_CACHE_MAX_BYTES.name(),
          NODE_DATA_MIN_FREE_BYTES.name(),
          RAFT_CLOCK_STEP_DOWN_CHECKS.name(),
          DEBUG_CLOCK_OFFSET_MILLIS.name());
}
