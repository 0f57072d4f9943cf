package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 3, acceptance 3: SIGKILL the leader in the middle of concurrent transfers. Writers keep
 * going after the election, and no acknowledged transfer is lost, duplicated or invented.
 */
class LeaderCrashTest {
  @TempDir Path data;

  @Test
  void killingTheLeaderMidLoadLosesNoAcknowledgedTransfer() throws Exception {
    try (LocalCluster cluster = new LocalCluster("leader-crash", 3, data, Map.of()).start();
        CairnClient client =
            cluster
                .clientBuilder()
                .endpoints(cluster.endpoints())
                .totalTimeout(Duration.ofSeconds(8))
                .build()) {
      TransferLoad load = new TransferLoad("crash", 12, 1_000_000);
      load.setUp(client);
      var workers = load.start(client, 8, Duration.ofSeconds(30));
      Thread.sleep(2500);
      long okBeforeKill = load.okCount();
      int leader = cluster.awaitLeader(Duration.ofSeconds(10));
      cluster.kill(leader);
      int newLeader = cluster.awaitLeader(Duration.ofSeconds(30));
      long okAtElection = load.okCount();
      Thread.sleep(3000);
      load.stop();
      TransferLoad.join(workers, Duration.ofSeconds(30));
      long okAfter = load.okCount();
      assertTrue(okBeforeKill > 0, "no transfer succeeded before the crash");
      assertTrue(newLeader != leader, "the killed node cannot be leader");
      assertTrue(
          okAfter > okAtElection,
          "writers made no progress after the new election ("
              + okAtElection
              + " -> "
              + okAfter
              + ")");

      cluster.startNode(leader);
      cluster.awaitLeader(Duration.ofSeconds(30));
      long applied = load.verify(client);
      long index = client.summary().getStamp().getAppliedIndex();
      cluster.awaitApplied(index, Duration.ofSeconds(60));
      // The restarted node caught up from the log: its root must equal the others'.
      cluster.assertRootsAgree(Duration.ofSeconds(30));
      System.out.printf(
          "leader-crash: killed n%d, new leader n%d; ok=%d unknown=%d applied=%d%n",
          leader, newLeader, okAfter, load.unknown.size(), applied);
    }
  }
}
