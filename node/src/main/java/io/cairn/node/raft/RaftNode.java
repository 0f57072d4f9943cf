package io.cairn.node.raft;

import io.cairn.node.config.NodeConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * One Ratis server in one Raft group, configured from {@link NodeConfig}. Submits requests
 * straight into the local server ({@code submitClientRequestAsync}), so no Ratis client (and none
 * of its retry pitfalls) sits on the write path.
 */
public final class RaftNode implements AutoCloseable {
  private final NodeConfig config;
  private final RaftGroup group;
  private final RaftPeerId selfId;
  private final LedgerStateMachine stateMachine;
  private final RaftServer server;
  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();

  public RaftNode(NodeConfig config, LedgerStateMachine stateMachine) throws IOException {
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
    this.server =
        RaftServer.newBuilder()
            .setServerId(selfId)
            .setGroup(group)
            .setProperties(properties(config))
            .setStateMachine(stateMachine)
            // RECOVER is safe on a first start too; FORMAT would delete existing storage.
            .setOption(RaftStorage.StartupOption.RECOVER)
            .build();
  }

  /**
   * A Raft peer that carries its API endpoint as Ratis's "client address": Ratis itself only
   * dials that address from a Ratis client, which Cairn never uses, so every node can learn any
   * member's API endpoint from the replicated configuration.
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

  static RaftProperties properties(NodeConfig c) {
    RaftProperties p = new RaftProperties();
    RaftServerConfigKeys.setStorageDir(p, List.of(c.dataDir().toFile()));
    GrpcConfigKeys.Server.setPort(p, c.self().raftPort());
    GrpcConfigKeys.Server.setHost(p, c.self().host());
    RaftServerConfigKeys.Rpc.setTimeoutMin(
        p, TimeDuration.valueOf(c.getLong("raft.election.timeout.min.millis"), TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(
        p, TimeDuration.valueOf(c.getLong("raft.election.timeout.max.millis"), TimeUnit.MILLISECONDS));
    // Acknowledged means durable (invariant 4): the log worker fsyncs before the leader counts
    // its own vote, and followers fsync before they acknowledge.
    RaftServerConfigKeys.Log.setUnsafeFlushEnabled(p, false);
    RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(c.getLong("raft.log.segment.bytes")));
    RaftServerConfigKeys.Log.setPurgeGap(p, c.getInt("raft.log.purge.gap"));
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
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
    return p;
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

  /** Role, term, leader of this node's division; null while the division is not up. */
  public DivisionInfo info() {
    try {
      return server.getDivision(group.getGroupId()).getInfo();
    } catch (IOException e) {
      return null;
    }
  }

  /** Whether this node knows a leader (itself or another): readiness, and Watch's cut-off check. */
  public boolean knowsLeader() {
    DivisionInfo info = info();
    return info != null && info.getLeaderId() != null;
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
  public List<RaftPeer> members() {
    try {
      return List.copyOf(
          server.getDivision(group.getGroupId()).getRaftConf().getCurrentPeers());
    } catch (IOException e) {
      return List.of();
    }
  }

  /**
   * Replaces the voting members {@code current} by {@code next} (compare-and-set: fails if the
   * configuration changed meanwhile). Completes once the new configuration is committed, after
   * any new member caught up with the log.
   */
  public CompletableFuture<RaftClientReply> changeMembers(
      List<RaftPeer> current, List<RaftPeer> next) {
    SetConfigurationRequest request =
        new SetConfigurationRequest(
            clientId,
            selfId,
            group.getGroupId(),
            callIds.incrementAndGet(),
            SetConfigurationRequest.Arguments.newBuilder()
                .setServersInCurrentConf(current)
                .setServersInNewConf(next)
                .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
                .build());
    try {
      return server.setConfigurationAsync(request);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Appends {@code payload} as one log entry on this (leader) node. */
  public CompletableFuture<RaftClientReply> submitWrite(byte[] payload) {
    return submit(
        Message.valueOf(UnsafeByteOperations.unsafeWrap(payload)),
        RaftClientRequest.writeRequestType());
  }

  private CompletableFuture<RaftClientReply> submit(Message message, RaftClientRequest.Type type) {
    RaftClientRequest request =
        RaftClientRequest.newBuilder()
            .setClientId(clientId)
            .setServerId(selfId)
            .setGroupId(group.getGroupId())
            .setCallId(callIds.incrementAndGet())
            .setMessage(message)
            .setType(type)
            .build();
    try {
      return server.submitClientRequestAsync(request);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
