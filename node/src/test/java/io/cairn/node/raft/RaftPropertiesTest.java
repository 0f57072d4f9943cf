package io.cairn.node.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.node.config.NodeConfig;
import java.util.HashMap;
import java.util.Map;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What Cairn's config turns into for Ratis. A follower behind the leader's purged log is sent the
 * snapshot in chunks; a chunk larger than the gRPC message limit is refused by the follower on
 * every retry, so it could never catch up (seen: Ratis's 16 MiB default chunk against a 10 MiB
 * limit). Every profile, and the extremes of both bounds, must leave a chunk room in a message.
 */
class RaftPropertiesTest {
  private static final String PEERS = "n1=127.0.0.1:7101:7201,n2=127.0.0.1:7102:7202";

  @ParameterizedTest
  @CsvSource({
    "balanced, , ",
    "low-power, , ",
    "throughput, , ",
    "balanced, 65536, 67108864",
    "balanced, 268435456, 65536",
    "low-power, , 67108864",
  })
  void aSnapshotChunkAlwaysFitsInOneMessage(String profile, Long appender, Long chunk)
      throws Exception {
    Map<String, String> flags = new HashMap<>(Map.of("node.id", "n1", "cluster.peers", PEERS));
    flags.put("node.profile", profile);
    if (appender != null) {
      flags.put("raft.appender.buffer.bytes", appender.toString());
    }
    if (chunk != null) {
      flags.put("raft.snapshot.chunk.bytes", chunk.toString());
    }
    NodeConfig c = NodeConfig.load(null, Map.of(), flags);
    RaftProperties p = RaftNode.properties(c);
    long chunkMax = RaftServerConfigKeys.Log.Appender.snapshotChunkSizeMax(p).getSize();
    long messageMax = GrpcConfigKeys.messageSizeMax(p, s -> {}).getSize();
    assertEquals(c.getLong("raft.snapshot.chunk.bytes"), chunkMax);
    // A chunk travels with its request header (ids, term, file name, digest): 1 MiB of room.
    assertTrue(chunkMax + 1024 * 1024 <= messageMax, chunkMax + " B chunk in " + messageMax + " B");
    long appenderMax = RaftServerConfigKeys.Log.Appender.bufferByteLimit(p).getSize();
    assertTrue(appenderMax + 1024 * 1024 <= messageMax, "appender batch does not fit either");
  }

  @org.junit.jupiter.api.Test
  void replicasSnapshotAtDifferentIndexesWithinAQuarterAboveTheThreshold() {
    java.util.Set<Long> seen = new java.util.HashSet<>();
    for (String id : java.util.List.of("n1", "n2", "n3")) {
      long t = RaftNode.snapshotThreshold(50_000, id);
      assertTrue(t >= 50_000 && t <= 62_500, id + ": " + t);
      seen.add(t);
    }
    assertEquals(3, seen.size(), "n1..n3 share a threshold: " + seen);
    assertEquals(RaftNode.snapshotThreshold(40, "n7"), RaftNode.snapshotThreshold(40, "n7"));
  }
}
