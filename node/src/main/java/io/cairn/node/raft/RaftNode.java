package io.cairn.node.raft;

import io.cairn.node.config.ConfigKeys;
import io.cairn.node.config.NodeConfig;
import io.cairn.node.tls.TlsMaterial;
import io.cairn.proto.ErrorDetail;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.protocol.exceptions.ReconfigurationInProgressException;
import org.apache.ratis.protocol.exceptions.SetConfigurationException;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * One Ratis server in one Raft group, configured from {@link NodeConfig}. Submits requests straight
 * into the local server ({@code submitClientRequestAsync}), so no Ratis client (and none of its
 * retry pitfalls) sits on the write path.
 */
public final class RaftNode implements AutoCloseable {
  private final NodeConfig config;
  private final RaftGroup group;
  private final RaftPeerId selfId;
  private final LedgerStateMachine stateMachine;
  private final RaftServer server;
  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();

  /**
   * @param tls this node's certificates, or null when {@code tls.enabled=0}: then the Raft port is
   *     plaintext (benchmarks only)
   */
  public RaftNode(NodeConfig config, LedgerStateMachine stateMachine, TlsMaterial tls)
      throws IOException {
    this.config = config;
    this.stateMachine = stateMachine;
    this.selfId = RaftPeerId.valueOf(config.nodeId());
    // A joining node starts with no peers and waits for the leader to add it; Ratis then keeps
    // the committed configuration in its own storage (raft-meta.conf), which wins on restarts.
    List<RaftPeer> peers =
        config.getLong("cluster.join") == 1
            ? List.of()
            : config.peers().stream()
                .map(p -> peer(p.id(), p.raftAddress(), p.apiEndpoint()))
                .toList();
    this.group = RaftGroup.valueOf(groupId(config.get("cluster.group")), peers);
    // A data dir seeded by `cairnctl snapshot restore` becomes the Ratis storage of that snapshot.
    Backups.installSeed(config.dataDir(), group.getGroupId());
    this.server =
        RaftServer.newBuilder()
            .setServerId(selfId)
            .setGroup(group)
            .setProperties(properties(config))
            .setParameters(parameters(tls))
            .setStateMachine(stateMachine)
            // RECOVER is safe on a first start too; FORMAT would delete existing storage.
            .setOption(RaftStorage.StartupOption.RECOVER)
            .build();
  }

  /**
   * A Raft peer that carries its API endpoint as Ratis's "client address": Ratis itself only dials
   * that address from a Ratis client, which Cairn never uses, so every node can learn any member's
   * API endpoint from the replicated configuration.
   */
  public static RaftPeer peer(String id, String raftAddress, String apiEndpoint) {
    return RaftPeer.newBuilder()
        .setId(id)
        .setAddress(raftAddress)
        .setClientAddress(apiEndpoint)
        .build();
  }

  /** Derives a stable group id from the group name, so every node agrees without coordination. */
  static RaftGroupId groupId(String name) {
    return RaftGroupId.valueOf(
        UUID.nameUUIDFromBytes(("cairn-group:" + name).getBytes(StandardCharsets.UTF_8)));
  }

  /** Snapshot chunks in flight to one follower: bounds install memory to this many chunks. */
  static final int INSTALL_SNAPSHOT_INFLIGHT = 8;

  /**
   * The configured threshold plus 0-22% by node id. With one threshold every replica snapshots at
   * the same index, and three snapshot writers at once starved the nodes of CPU and disk (writes
   * slowed for a second); staggered, their snapshots rarely coincide.
   */
  static long snapshotThreshold(long configured, String nodeId) {
    long step = Math.max(1, configured / 32);
    return configured + step * Math.floorMod(nodeId.hashCode(), 8);
  }

  /**
   * Mutual TLS between peers, trusting replicas only ({@link TlsMaterial#peerTrust}): on the Raft
   * port, on the appenders that dial it, and on Ratis's own admin and client services, which also
   * listen on loopback only ({@link #properties}).
   */
  static Parameters parameters(TlsMaterial tls) {
    Parameters params = new Parameters();
    if (tls != null) {
      GrpcTlsConfig peers =
          GrpcTlsConfig.newBuilder()
              .setKeyManager(tls.keyManager())
              .setTrustManager(tls.peerTrust())
              .setMutualTls(true)
              .setSslProvider(peerSslProvider())
              .setProtocols("TLSv1.3")
              .build();
      GrpcConfigKeys.TLS.setConf(params, peers);
      GrpcConfigKeys.Server.setTlsConf(params, peers);
      GrpcConfigKeys.Admin.setTlsConf(params, peers);
      GrpcConfigKeys.Client.setTlsConf(params, peers);
    }
    return params;
  }

  /**
   * Netty's OpenSSL binding (BoringSSL, shipped in Ratis's shaded netty) where its native library
   * loads, else the JDK's TLS. Ratis asks for OpenSSL unconditionally, and in the chaos containers
   * the library does not load, so every node failed at start; where it does load it costs less CPU
   * per replicated byte than the JDK's engine (docs/benchmarks.md, issue 15).
   */
  public static org.apache.ratis.thirdparty.io.netty.handler.ssl.SslProvider peerSslProvider() {
    return org.apache.ratis.thirdparty.io.netty.handler.ssl.OpenSsl.isAvailable()
        ? org.apache.ratis.thirdparty.io.netty.handler.ssl.SslProvider.OPENSSL
        : org.apache.ratis.thirdparty.io.netty.handler.ssl.SslProvider.JDK;
  }

  static RaftProperties properties(NodeConfig c) throws IOException {
    RaftProperties p = new RaftProperties();
    RaftServerConfigKeys.setStorageDir(p, List.of(c.dataDir().toFile()));
    GrpcConfigKeys.Server.setPort(p, c.self().raftPort());
    GrpcConfigKeys.Server.setHost(p, c.self().host());
    // Ratis serves its admin (setConfiguration, group removal) and client (raw log writes)
    // services on the Raft port unless given ports of their own. Cairn never calls either, and
    // either would let a peer-certified caller skip every Cairn check; so each gets its own
    // listener on 127.0.0.1, behind the same peer-only TLS.
    GrpcConfigKeys.Admin.setHost(p, "127.0.0.1");
    GrpcConfigKeys.Admin.setPort(p, loopbackPort(c.get(ConfigKeys.RAFT_LOCAL_ADMIN_PORT)));
    GrpcConfigKeys.Client.setHost(p, "127.0.0.1");
    GrpcConfigKeys.Client.setPort(p, loopbackPort(c.get(ConfigKeys.RAFT_LOCAL_CLIENT_PORT)));
    RaftServerConfigKeys.Rpc.setTimeoutMin(
        p,
        TimeDuration.valueOf(c.getLong("raft.election.timeout.min.millis"), TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(
        p,
        TimeDuration.valueOf(c.getLong("raft.election.timeout.max.millis"), TimeUnit.MILLISECONDS));
    // Acknowledged means durable (invariant 4): the log worker fsyncs before the leader counts
    // its own vote, and followers fsync before they acknowledge.
    RaftServerConfigKeys.Log.setUnsafeFlushEnabled(p, false);
    RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
    RaftServerConfigKeys.Log.setSegmentSizeMax(
        p, SizeInBytes.valueOf(c.getLong("raft.log.segment.bytes")));
    RaftServerConfigKeys.Log.setPurgeGap(p, c.getInt("raft.log.purge.gap"));
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    // Ratis 3.3's default queues a follower's appends behind one another and lets a heartbeat
    // whose previous entry is still queued pass the log check. A chaos run (bridge, 5 nodes)
    // then left a follower that had led an empty term holding its own stale entry 0 with commit
    // index 0: every append from the new leader was refused (INCONSISTENCY, nextIndex 0 and 1 in
    // turn) and it never caught up. Appending in the request's own thread checks the log itself.
    RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, false);
    // Ratis keeps every write's reply for this long to answer a retry of the same call id.
    // Cairn never retries a call id (each node writes under fresh ones; clients retry with
    // operation ids, which the ledger's dedupe table answers), so the default 60 s only made
    // every node hold a minute of replies: middle-aged garbage for G1.
    RaftServerConfigKeys.RetryCache.setExpiryTime(p, TimeDuration.valueOf(5, TimeUnit.SECONDS));
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(
        p, snapshotThreshold(c.getLong("raft.snapshot.threshold.entries"), c.self().id()));
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, c.getInt("raft.snapshot.retention"));
    // Cairn's linearizable reads do not use Ratis's ReadIndex (see LedgerApi#barrier); this only
    // keeps Ratis's own read path, which nothing of ours calls, from serving stale reads.
    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    flowControl(p, c);
    return p;
  }

  /** Every queue and batch between the API and the disk, and the messages that carry them. */
  private static void flowControl(RaftProperties p, NodeConfig c) {
    RaftServerConfigKeys.Write.setElementLimit(p, c.getInt("raft.write.element.limit"));
    RaftServerConfigKeys.Log.setQueueElementLimit(p, c.getInt("raft.write.element.limit"));
    RaftServerConfigKeys.Log.setQueueByteLimit(
        p, SizeInBytes.valueOf(c.getLong("raft.write.byte.limit")));
    // Invariant 5: Ratis's async request pool is a cached (unbounded) pool by default.
    GrpcConfigKeys.Server.setAsyncRequestThreadPoolCached(p, false);
    GrpcConfigKeys.Server.setAsyncRequestThreadPoolSize(p, 16);
    RaftServerConfigKeys.Write.setByteLimit(
        p, SizeInBytes.valueOf(c.getLong("raft.write.byte.limit")));
    long appenderBytes = c.getLong("raft.appender.buffer.bytes");
    RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, SizeInBytes.valueOf(appenderBytes));
    RaftServerConfigKeys.Log.Appender.setBufferElementLimit(p, 4096);
    // Ratis requires the log write buffer to hold the largest appender batch plus framing.
    RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf(appenderBytes + 64 * 1024));
    // After 30 failed sends to a follower Ratis's default ("1ms,10, 1s,20, 5s,1000") waits 5 s
    // between tries: a follower restarted after ~10 s down then sat up to 5 s unreached, and a
    // rolling restart took 20-25 s per node to catch up. A connection refused on the cluster's
    // network costs next to nothing: try every 50 ms for ten seconds, then every 200 ms.
    RaftServerConfigKeys.Log.Appender.setRetryPolicy(p, "1ms,10, 50ms,200, 200ms,1000000");
    GrpcConfigKeys.Server.setLeaderOutstandingAppendsMax(
        p, c.getInt("raft.appender.outstanding.max"));
    GrpcConfigKeys.setFlowControlWindow(
        p, SizeInBytes.valueOf(c.getLong("raft.grpc.flow.control.window.bytes")));
    // A follower that is behind the leader's purged log gets the snapshot in chunks. Ratis's
    // default chunk (16 MiB) is larger than the message limit below, so such a follower could
    // never catch up; both are set here, together.
    long chunkBytes = c.getLong("raft.snapshot.chunk.bytes");
    RaftServerConfigKeys.Log.Appender.setSnapshotChunkSizeMax(p, SizeInBytes.valueOf(chunkBytes));
    GrpcConfigKeys.Server.setInstallSnapshotRequestElementLimit(p, INSTALL_SNAPSHOT_INFLIGHT);
    // One message holds an appender batch or a snapshot chunk; leave room for framing.
    GrpcConfigKeys.setMessageSizeMax(
        p, SizeInBytes.valueOf(Math.max(appenderBytes, chunkBytes) + 2L * 1024 * 1024));
  }

  /** {@code configured}, or for 0 a loopback port that was free a moment ago. */
  private static int loopbackPort(int configured) throws IOException {
    if (configured != 0) {
      return configured;
    }
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return probe.getLocalPort();
    }
  }

  public void start() throws IOException {
    server.start();
  }

  public LedgerStateMachine stateMachine() {
    return stateMachine;
  }

  public String selfId() {
    return selfId.toString();
  }

  public RaftGroup group() {
    return group;
  }

  /** Role, term and leader of this node's division; {@link RaftStatus#DOWN} while it is not up. */
  public RaftStatus status() {
    DivisionInfo info;
    try {
      info = server.getDivision(group.getGroupId()).getInfo();
    } catch (IOException e) {
      return RaftStatus.DOWN;
    }
    RaftPeerId leader = info.getLeaderId();
    return new RaftStatus(
        roleName(info.getCurrentRole()),
        info.getCurrentTerm(),
        leader == null ? "" : leader.toString());
  }

  /** This node's current term (-1 once the division is gone): cheaper than {@link #status}. */
  public long currentTerm() {
    try {
      return server.getDivision(group.getGroupId()).getInfo().getCurrentTerm();
    } catch (IOException e) {
      return -1;
    }
  }

  private static String roleName(RaftPeerRole role) {
    return switch (role) {
      case LEADER -> "LEADER";
      case FOLLOWER -> "FOLLOWER";
      case CANDIDATE -> "CANDIDATE";
      case LISTENER -> "LISTENER";
      default -> "UNKNOWN";
    };
  }

  /** The division's life-cycle state (RUNNING while it serves), or "gone" once it is closed. */
  public String lifeCycleState() {
    try {
      DivisionInfo info = server.getDivision(group.getGroupId()).getInfo();
      return info.isAlive() ? "RUNNING" : String.valueOf(info.getLifeCycleState());
    } catch (IOException e) {
      return "gone";
    }
  }

  /** Whether this node's division is up (started and not closed). */
  public boolean isUp() {
    try {
      server.getDivision(group.getGroupId());
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** On the leader: entries the slowest follower is behind the commit index; 0 elsewhere. */
  public long followerLagMax() {
    DivisionInfo info;
    try {
      info = server.getDivision(group.getGroupId()).getInfo();
    } catch (IOException e) {
      return 0;
    }
    if (!info.isLeader()) {
      return 0;
    }
    long commit = commitIndex();
    long lag = 0;
    for (long match : info.getFollowerMatchIndices()) {
      lag = Math.max(lag, commit - match);
    }
    return lag;
  }

  /**
   * Whether this node leads and is ready: it has applied its first entry of the term, so writes and
   * barriers it takes are served at once (a leader just elected answers NOT_READY until then).
   */
  public boolean isLeaderReady() {
    try {
      return server.getDivision(group.getGroupId()).getInfo().isLeaderReady();
    } catch (IOException e) {
      return false;
    }
  }

  /** Whether this node knows a leader (itself or another): readiness, and Watch's cut-off check. */
  public boolean knowsLeader() {
    return status().knowsLeader();
  }

  /** The index this node knows to be committed. */
  public long commitIndex() {
    try {
      return server.getDivision(group.getGroupId()).getRaftLog().getLastCommittedIndex();
    } catch (IOException e) {
      return -1;
    }
  }

  /** The voting members of the configuration this node knows (committed or not); empty if down. */
  public List<Peer> members() {
    try {
      return server.getDivision(group.getGroupId()).getRaftConf().getCurrentPeers().stream()
          .map(
              p ->
                  new Peer(
                      p.getId().toString(),
                      p.getAddress() == null ? "" : p.getAddress(),
                      p.getClientAddress() == null ? "" : p.getClientAddress()))
          .toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  /**
   * Replaces the voting members {@code current} by {@code next} (compare-and-set: fails if the
   * configuration changed meanwhile). Completes once the new configuration is committed, after any
   * new member caught up with the log; fails with {@link MembershipChangeException} when Raft
   * refuses, or with {@link WriteFailure} when this node cannot tell.
   */
  public CompletableFuture<Void> changeMembers(List<Peer> current, List<Peer> next) {
    SetConfigurationRequest request =
        new SetConfigurationRequest(
            clientId,
            selfId,
            group.getGroupId(),
            callIds.incrementAndGet(),
            SetConfigurationRequest.Arguments.newBuilder()
                .setServersInCurrentConf(toRatis(current))
                .setServersInNewConf(toRatis(next))
                .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
                .build());
    CompletableFuture<RaftClientReply> reply;
    try {
      reply = server.setConfigurationAsync(request);
    } catch (IOException e) {
      reply = CompletableFuture.failedFuture(e);
    }
    return reply.handle(
        (r, err) -> {
          Throwable failure = err != null ? err : r.isSuccess() ? null : r.getException();
          if (failure == null) {
            return null;
          }
          throw membershipFailure(failure);
        });
  }

  private static RuntimeException membershipFailure(Throwable t) {
    Throwable cause = t;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof ReconfigurationInProgressException) {
      return new MembershipChangeException(
          MembershipChangeException.Reason.IN_PROGRESS, cause.getMessage());
    }
    if (cause instanceof SetConfigurationException) {
      return new MembershipChangeException(
          MembershipChangeException.Reason.REFUSED, cause.getMessage());
    }
    return WriteFailure.of(cause);
  }

  private static List<RaftPeer> toRatis(List<Peer> peers) {
    return peers.stream().map(p -> peer(p.id(), p.raftAddress(), p.apiEndpoint())).toList();
  }

  /**
   * Appends {@code command} as one log entry on this (leader) node. Completes with the entry's
   * results once it is committed and applied here; fails with {@link WriteFailure} only.
   */
  public CompletableFuture<EntryResults> submit(LedgerCommand command) {
    RaftClientRequest request =
        RaftClientRequest.newBuilder()
            .setClientId(clientId)
            .setServerId(selfId)
            .setGroupId(group.getGroupId())
            .setCallId(callIds.incrementAndGet())
            .setMessage(command)
            .setType(RaftClientRequest.writeRequestType())
            .build();
    CompletableFuture<RaftClientReply> reply;
    try {
      reply = server.submitClientRequestAsync(request);
    } catch (IOException e) {
      reply = CompletableFuture.failedFuture(e);
    }
    return reply.handle(
        (r, err) -> {
          if (err != null) {
            throw WriteFailure.of(err);
          }
          if (!r.isSuccess()) {
            throw WriteFailure.of(r.getException());
          }
          if (r.getMessage() instanceof EntryResults results) {
            return results;
          }
          // Cannot happen unless the state machine is broken; say so instead of guessing.
          throw new WriteFailure(
              ErrorDetail.Kind.OUTCOME_UNKNOWN, "", false, "no results for the entry");
        });
  }

  /**
   * On the leader: hands leadership to the most caught-up follower (Ratis first brings it level
   * with this log, then tells it to start an election at once), and waits until another node leads,
   * at most {@code timeoutMillis}. Returns the new leader's id, or empty when this node did not
   * lead or the handover did not complete in time (then stopping costs one election timeout, no
   * more).
   */
  public String handOverLeadership(long timeoutMillis) {
    return handOverLeadershipTo(mostCaughtUpFollower(), timeoutMillis);
  }

  /**
   * On the leader: hands leadership to member {@code target} as {@link #handOverLeadership} does;
   * returns the new leader's id, or empty when this node did not lead, {@code target} is empty or
   * the handover did not complete in {@code timeoutMillis}.
   */
  public String handOverLeadershipTo(String target, long timeoutMillis) {
    if (target.isEmpty() || !status().isLeader()) {
      return "";
    }
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
    TransferLeadershipRequest request =
        new TransferLeadershipRequest(
            clientId,
            selfId,
            group.getGroupId(),
            callIds.incrementAndGet(),
            RaftPeerId.valueOf(target),
            timeoutMillis);
    try {
      RaftClientReply reply =
          server.transferLeadershipAsync(request).get(timeoutMillis, TimeUnit.MILLISECONDS);
      if (!reply.isSuccess()) {
        return "";
      }
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return "";
    }
    // Bounded: until another node is known to lead, or the deadline.
    while (System.nanoTime() < deadline) {
      RaftStatus now = status();
      if (!now.isLeader() && now.knowsLeader() && !now.leaderId().equals(selfId.toString())) {
        return now.leaderId();
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "";
      }
    }
    return "";
  }

  /** On the leader, the follower with the highest match index; empty elsewhere or with none. */
  private String mostCaughtUpFollower() {
    DivisionInfo info;
    try {
      info = server.getDivision(group.getGroupId()).getInfo();
    } catch (IOException e) {
      return "";
    }
    if (!info.isLeader()) {
      return "";
    }
    // Both lists come from the leader's appenders in the same order (LeaderStateImpl).
    long[] matches = info.getFollowerMatchIndices();
    var followers = info.getRoleInfoProto().getLeaderInfo().getFollowerInfoList();
    String best = "";
    long bestMatch = -1;
    for (int i = 0; i < Math.min(matches.length, followers.size()); i++) {
      if (matches[i] > bestMatch) {
        bestMatch = matches[i];
        best = followers.get(i).getId().getId().toStringUtf8();
      }
    }
    return best;
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
