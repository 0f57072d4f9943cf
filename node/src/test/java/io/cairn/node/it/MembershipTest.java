package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.CairnException;
import io.cairn.proto.ClusterStatusResponse;
import io.cairn.proto.Member;
import io.cairn.proto.MembershipResponse;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Membership change on real processes while transfers run: a new node joins (by snapshot, since the
 * log it would need was purged), the leader removes itself, and nothing acknowledged is lost.
 */
class MembershipTest {
  @TempDir Path data;

  private static final Map<String, String> SNAPSHOT_OFTEN =
      Map.of("raft.snapshot.threshold.entries", "40", "raft.log.purge.gap", "5");

  @Test
  void aNodeJoinsByTheLeaderAndTheLeaderLeavesWhileTransfersRun() throws Exception {
    try (LocalCluster cluster =
            new LocalCluster("membership", 4, data, SNAPSHOT_OFTEN).initialMembers(3).start();
        CairnClient client =
            cluster
                .clientBuilder()
                .endpoints(cluster.endpoints())
                .totalTimeout(Duration.ofSeconds(60))
                .build()) {
      TransferLoad load = new TransferLoad("member", 8, 100_000);
      load.setUp(client);
      // Enough entries that n4 cannot be sent the log from index 1: it needs the snapshot.
      for (int i = 0; i < 120; i++) {
        client.transfer(load.account(i % 8), load.account((i + 3) % 8), 1);
      }
      var workers = load.start(client, 3, Duration.ofSeconds(40));

      cluster.startNode(4);
      cluster.awaitServing(4, Duration.ofSeconds(60));
      MembershipResponse added =
          client.addMember("n4", cluster.raftAddress(4), cluster.endpoint(4));
      assertEquals(List.of("n1", "n2", "n3", "n4"), ids(added.getMembersList()));
      assertEquals(cluster.endpoint(4), added.getMembers(3).getApiEndpoint());
      // Idempotent: the same add again changes nothing and succeeds.
      assertEquals(
          4, client.addMember("n4", cluster.raftAddress(4), cluster.endpoint(4)).getMembersCount());

      int leader = cluster.awaitLeader(Duration.ofSeconds(30));
      MembershipResponse removed = client.removeMember("n" + leader);
      assertEquals(3, removed.getMembersCount());
      assertTrue(!ids(removed.getMembersList()).contains("n" + leader));
      cluster.kill(leader);
      int next = cluster.awaitLeader(Duration.ofSeconds(30));
      assertNotEquals(leader, next);
      // Removing an id that is no member any more succeeds and changes nothing.
      assertEquals(3, client.removeMember("n" + leader).getMembersCount());

      load.stop();
      TransferLoad.join(workers, Duration.ofSeconds(70));
      assertTrue(load.okCount() > 20, "too few transfers acknowledged: " + load.okCount());
      load.verify(client);
      cluster.assertRootsAgree(Duration.ofSeconds(60));

      ClusterStatusResponse fromNew = cluster.status(4).orElseThrow();
      assertEquals(3, fromNew.getMembersCount(), "n4's view: " + fromNew);
      assertTrue(
          cluster.log(4).contains("loaded snapshot") || cluster.log(4).contains("installed"),
          "n4 did not catch up from a snapshot");

      // n4 restarts with cluster.join=1 still set: its Raft state wins, it stays a member.
      cluster.kill(4);
      cluster.startNode(4);
      cluster.awaitLeader(Duration.ofSeconds(30));
      client.transfer(load.account(0), load.account(1), 1);
      cluster.assertRootsAgree(Duration.ofSeconds(60));
    }
  }

  @Test
  void badMembershipRequestsAreRefusedWithTheField() throws Exception {
    try (LocalCluster cluster = new LocalCluster("membership-bad", 3, data, Map.of()).start();
        CairnClient client = cluster.clientBuilder().build()) {
      CairnException badId =
          assertThrows(CairnException.class, () -> client.addMember("no spaces", "h:1", "h:2"));
      assertEquals(Status.Code.INVALID_ARGUMENT, badId.code());
      assertTrue(badId.getMessage().contains("id"), badId.getMessage());
      CairnException badPort =
          assertThrows(CairnException.class, () -> client.addMember("n9", "h:70000", "h:2"));
      assertEquals(Status.Code.INVALID_ARGUMENT, badPort.code());
      assertTrue(badPort.getMessage().contains("raft_address"), badPort.getMessage());
      assertEquals(3, client.status().getMembersCount());
    }
  }

  private static List<String> ids(List<Member> members) {
    return members.stream().map(Member::getId).sorted().toList();
  }
}
