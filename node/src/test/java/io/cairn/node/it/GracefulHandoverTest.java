package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16, "graceful handover": SIGTERM on the leader hands leadership to a follower before the
 * node stops, and a rolling restart of every node under load gives no failed and no unknown-outcome
 * call, and loses or doubles nothing.
 */
class GracefulHandoverTest {
  @TempDir Path data;

  @Test
  void aRollingRestartUnderLoadFailsNoCall() throws Exception {
    try (LocalCluster cluster = new LocalCluster("handover", 3, data, Map.of()).start();
        CairnClient client = cluster.clientBuilder().totalTimeout(Duration.ofSeconds(15)).build()) {
      TransferLoad load = new TransferLoad("roll", 12, 1_000_000);
      load.setUp(client);
      var workers = load.start(client, 4, Duration.ofSeconds(300));
      Thread.sleep(1500);
      boolean handedOver = false;
      for (int node = 1; node <= cluster.size(); node++) {
        awaitCaughtUp(cluster, client);
        boolean wasLeader = cluster.awaitLeader(Duration.ofSeconds(10)) == node;
        cluster.stop(node);
        if (wasLeader) {
          assertTrue(
              cluster.log(node).contains("handed leadership to"),
              "the stopping leader n" + node + " did not hand over first");
          handedOver = true;
        }
        cluster.startNode(node);
      }
      assertTrue(handedOver, "the roll never stopped a leader");
      awaitCaughtUp(cluster, client);
      long okAtEnd = load.okCount();
      Thread.sleep(1000);
      load.stop();
      TransferLoad.join(workers, Duration.ofSeconds(30));
      assertTrue(load.okCount() > okAtEnd, "writers made no progress after the roll");
      assertEquals(0, load.failures.get(), "calls that failed");
      assertEquals(0, load.unknown.size(), "calls whose outcome is unknown");
      long applied = load.verify(client);
      cluster.assertRootsAgree(Duration.ofSeconds(30));
      System.out.printf(
          "handover: ok=%d failed=%d unknown=%d applied=%d%n",
          load.okCount(), load.failures.get(), load.unknown.size(), applied);
    }
  }

  /** Every node up, a leader known, and every node applied what the leader has. */
  private static void awaitCaughtUp(LocalCluster cluster, CairnClient client) throws Exception {
    cluster.awaitLeader(Duration.ofSeconds(30));
    long index = client.summary().getStamp().getAppliedIndex();
    cluster.awaitApplied(index, Duration.ofSeconds(60));
  }
}
