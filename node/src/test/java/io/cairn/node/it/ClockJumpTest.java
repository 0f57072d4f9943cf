package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ReadOptions;
import io.cairn.proto.ResultCode;
import io.cairn.proto.StatementLine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18, acceptance 1: a leader whose clock is an hour ahead changes nothing for clients with
 * good clocks. Without the peers' check it would stamp its clock, ledger time would jump an hour,
 * and every honest transfer would be EXPIRED (created more than the 10-minute window before ledger
 * time) until real time caught up.
 *
 * <p>First with step-down off on n1 (raft.clock.step.down.checks=0): n1 keeps leading and stamps
 * its majority's time. Then step-down is switched on in n1's config file (hot): n1 hands leadership
 * to a member whose clock agrees, and writes go on with good stamps.
 */
class ClockJumpTest {
  @TempDir Path data;

  static final long HOUR = 3_600_000;

  @Test
  void aLeaderWhoseClockIsAnHourAheadChangesNothingForClientsWithGoodClocks() throws Exception {
    // n1's clock is an hour ahead, and n1 times out first, so it leads.
    Path n1config = data.resolve("n1.properties");
    Files.writeString(
        n1config, "debug.clock.offset.millis=" + HOUR + "\nraft.clock.step.down.checks=0\n");
    try (LocalCluster cluster =
            new LocalCluster("clock-jump", 3, data, Map.of())
                .nodeConfigFile(1, n1config)
                .nodeSetting(2, "raft.election.timeout.min.millis", "4000")
                .nodeSetting(2, "raft.election.timeout.max.millis", "5000")
                .nodeSetting(3, "raft.election.timeout.min.millis", "4000")
                .nodeSetting(3, "raft.election.timeout.max.millis", "5000")
                .start();
        CairnClient client = cluster.clientBuilder().totalTimeout(Duration.ofSeconds(30)).build()) {
      assertEquals(1, cluster.awaitLeader(Duration.ofSeconds(60)), "n1 should lead");
      assertEquals(ResultCode.OK, client.createAccount("alice").getCode());
      assertEquals(ResultCode.OK, client.createAccount("bob").getCode());
      assertEquals(ResultCode.OK, client.mint("alice", 1_000).getCode());
      transfers(client, "jump-", 20);
      assertEquals(1, cluster.awaitLeader(Duration.ofSeconds(10)), "n1 still leads");
      assertStampsGood(client);
      double correction = cluster.gauge(1, "cairn_clock_correction_millis");
      assertTrue(Math.abs(correction + HOUR) < 60_000, "n1's correction: " + correction);
      assertEquals(0.0, cluster.gauge(2, "cairn_clock_correction_millis"));
      assertTrue(cluster.log(1).contains("off a majority of its peers"), "n1 did not say so");

      // Step-down on: n1 hands leadership to a member whose clock agrees.
      Files.writeString(
          n1config, "debug.clock.offset.millis=" + HOUR + "\nraft.clock.step.down.checks=2\n");
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      int leader = 1;
      while (leader == 1 && System.nanoTime() < deadline) {
        Thread.sleep(200);
        leader = cluster.awaitLeader(Duration.ofSeconds(10));
      }
      assertTrue(leader != 1, "n1 did not step down");
      assertTrue(cluster.log(1).contains("handing leadership to n"), "n1 did not say so");
      transfers(client, "after-", 20);
      assertStampsGood(client);
    }
  }

  private static void transfers(CairnClient client, String prefix, int n) {
    for (int i = 0; i < n; i++) {
      long at = System.currentTimeMillis();
      OperationResult r = client.transfer(prefix + i, at, "alice", "bob", 1);
      assertEquals(ResultCode.OK, r.getCode(), "an honest transfer: " + r);
    }
  }

  private static void assertStampsGood(CairnClient client) {
    List<StatementLine> lines =
        HistoryTest.statement(client, "bob", ReadOptions.getDefaultInstance());
    for (StatementLine l : lines) {
      long off = l.getLedgerTimeMillis() - System.currentTimeMillis();
      assertTrue(Math.abs(off) < 60_000, "entry " + l.getAppliedIndex() + " stamped " + off);
    }
  }
}
