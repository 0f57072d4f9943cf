package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.node.raft.LedgerStateMachine;
import io.cairn.node.tls.TlsMaterial;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcFactory;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: a log entry no replica can decode stops every replica at its index, with one line
 * naming it and exit code 4. (Ratis only logged a failed apply and went on, so the effect varied
 * per node.) The entry is appended the only way bytes reach the log without the API: through
 * Ratis's own client service, on loopback, with a replica's certificate.
 */
class CorruptEntryTest {
  @TempDir Path data;

  @Test
  void anEntryNoReplicaCanDecodeStopsEveryReplicaAtItsIndex() throws Exception {
    try (LocalCluster cluster = new LocalCluster("corrupt", 3, data, Map.of()).start()) {
      cluster.awaitLeader(java.time.Duration.ofSeconds(20));
      byte[] garbage = new byte[64];
      java.util.Arrays.fill(garbage, (byte) 0xFF); // no protobuf tag is all ones
      try (RaftClient raw = rawClient(cluster)) {
        // The leader halts while applying, so the reply may never come.
        raw.async()
            .send(
                Message.valueOf(
                    org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(garbage)));
        // A majority applies the entry (it is committed) and stops. A replica that had not yet
        // heard it was committed when they stopped cannot apply it, and must not get past it.
        List<Integer> stopped = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (stopped.size() < 3 && System.nanoTime() < deadline) {
          for (int n = 1; n <= 3; n++) {
            if (!stopped.contains(n) && !cluster.process(n).isAlive()) {
              assertEquals(
                  LedgerStateMachine.EXIT_CORRUPT_ENTRY, cluster.process(n).exitValue(), "n" + n);
              stopped.add(n);
            }
          }
          if (stopped.size() >= 2) {
            break;
          }
          Thread.sleep(100);
        }
        assertTrue(stopped.size() >= 2, "only " + stopped + " stopped");
        long index = decodeFailureIndex(cluster, stopped.get(0));
        Thread.sleep(2000); // the third, if it applies the entry, stops by now
        for (int n = 1; n <= 3; n++) {
          Process p = cluster.process(n);
          if (!p.isAlive()) {
            assertEquals(LedgerStateMachine.EXIT_CORRUPT_ENTRY, p.exitValue(), "n" + n);
            assertEquals(index, decodeFailureIndex(cluster, n), "n" + n + " stopped elsewhere");
          } else {
            long applied = cluster.status(n).orElseThrow().getAppliedIndex();
            assertTrue(applied < index, "n" + n + " applied " + applied + ", past " + index);
          }
        }
      }
    }
  }

  private static long decodeFailureIndex(LocalCluster cluster, int n) throws Exception {
    String log = cluster.log(n);
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("log entry (\\d+) cannot be decoded").matcher(log);
    assertTrue(m.find(), "n" + n + " logged no line naming the entry:\n" + tail(log));
    return Long.parseLong(m.group(1));
  }

  private static RaftClient rawClient(LocalCluster cluster) throws Exception {
    TlsMaterial n1 =
        TlsMaterial.load(
            cluster.certs().resolve("node.n1.crt"),
            cluster.certs().resolve("node.n1.key"),
            cluster.certs().resolve("ca.crt"));
    Parameters params = new Parameters();
    GrpcConfigKeys.Client.setTlsConf(
        params,
        GrpcTlsConfig.newBuilder()
            .setKeyManager(n1.keyManager())
            .setTrustManager(n1.peerTrust())
            .setMutualTls(true)
            .build());
    List<RaftPeer> peers = new ArrayList<>();
    for (int n = 1; n <= 3; n++) {
      peers.add(
          RaftPeer.newBuilder()
              .setId("n" + n)
              .setAddress(cluster.raftAddress(n))
              .setClientAddress(cluster.ratisClientAddress(n))
              .build());
    }
    RaftGroupId group =
        RaftGroupId.valueOf(
            UUID.nameUUIDFromBytes("cairn-group:cairn".getBytes(StandardCharsets.UTF_8)));
    RaftProperties props = new RaftProperties();
    return RaftClient.newBuilder()
        .setProperties(props)
        .setParameters(params)
        .setRaftGroup(RaftGroup.valueOf(group, peers))
        .setClientRpc(new GrpcFactory(params).newRaftClientRpc(ClientId.randomId(), props))
        .build();
  }

  private static String tail(String log) {
    return log.length() > 3000 ? log.substring(log.length() - 3000) : log;
  }
}
