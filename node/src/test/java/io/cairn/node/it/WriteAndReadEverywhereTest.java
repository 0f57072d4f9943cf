package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.Ops;
import io.cairn.proto.Consistency;
import io.cairn.proto.GetAccountResponse;
import io.cairn.proto.LedgerSummary;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ReadOptions;
import io.cairn.proto.ResultCode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/** Issue 3, acceptance 1 and 2, on a real 3-process cluster. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WriteAndReadEverywhereTest {
  @TempDir static Path data;
  static LocalCluster cluster;
  static CairnClient client;

  @BeforeAll
  static void up() throws Exception {
    cluster = new LocalCluster("write-read", 3, data, Map.of()).start();
    client = cluster.clientBuilder().build();
  }

  @AfterAll
  static void down() throws Exception {
    if (client != null) {
      client.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private static CairnClient clientOf(int node) {
    return cluster.clientBuilder().endpoints(List.of(cluster.endpoint(node))).build();
  }

  @Test
  @Order(1)
  void transferIsVisibleOnEveryNode() {
    assertEquals(ResultCode.OK, client.createAccount("alice").getCode());
    assertEquals(ResultCode.OK, client.mint("alice", 1000).getCode());
    assertEquals(ResultCode.OK, client.createAccount("bob").getCode());
    OperationResult t = client.transfer("alice", "bob", 250);
    assertEquals(ResultCode.OK, t.getCode());
    for (int node = 1; node <= 3; node++) {
      try (CairnClient one = clientOf(node)) {
        GetAccountResponse linear = one.getAccount("bob");
        assertTrue(linear.getFound());
        assertEquals(250, linear.getAccount().getBalance(), "linearizable read on n" + node);
        assertTrue(linear.getStamp().getAppliedIndex() >= t.getAppliedIndex());
        GetAccountResponse stale =
            one.getAccount(
                "bob",
                ReadOptions.newBuilder()
                    .setConsistency(Consistency.STALE)
                    .setMinAppliedIndex(t.getAppliedIndex())
                    .build());
        assertEquals(250, stale.getAccount().getBalance(), "read-your-writes on n" + node);
        assertEquals("n" + node, stale.getStamp().getNodeId());
      }
    }
  }

  @Test
  @Order(2)
  void retryWithTheSameIdReturnsTheFirstResultAndAppliesOnce() {
    OperationResult first = client.single(Ops.transfer("retry-1", "alice", "bob", 100));
    OperationResult again = client.single(Ops.transfer("retry-1", "alice", "bob", 100));
    assertEquals(ResultCode.OK, first.getCode());
    assertFalse(first.getReplayed());
    assertEquals(ResultCode.OK, again.getCode());
    assertTrue(again.getReplayed());
    assertEquals(first.getAppliedIndex(), again.getAppliedIndex());
    assertEquals(650, client.getAccount("alice").getAccount().getBalance());
    assertEquals(350, client.getAccount("bob").getAccount().getBalance());
    var looked = client.getTransfer("retry-1");
    assertTrue(looked.getFound());
    assertEquals(ResultCode.OK, looked.getResult().getCode());
  }

  @Test
  @Order(3)
  void failedTransfersReturnTheirCodeAndChangeNothing() {
    LedgerSummary before = client.summary();
    assertEquals(ResultCode.INSUFFICIENT_FUNDS, client.transfer("alice", "bob", 10_000).getCode());
    assertEquals(ResultCode.NO_SUCH_ACCOUNT, client.transfer("alice", "carol", 1).getCode());
    assertEquals(ResultCode.NO_SUCH_ACCOUNT, client.transfer("carol", "alice", 1).getCode());
    // 2^64 - 1 on top of the existing supply overflows the unsigned 64-bit total.
    assertEquals(ResultCode.AMOUNT_OVERFLOW, client.mint("bob", -1L).getCode());
    assertEquals(ResultCode.INSUFFICIENT_FUNDS, client.burn("bob", 100_000).getCode());
    assertEquals(ResultCode.ACCOUNT_EXISTS, client.createAccount("alice").getCode());
    LedgerSummary after = client.summary();
    assertEquals(650, client.getAccount("alice").getAccount().getBalance());
    assertEquals(350, client.getAccount("bob").getAccount().getBalance());
    assertEquals(before.getTotalBalance(), after.getTotalBalance());
    assertEquals(after.getTotalMinted() - after.getTotalBurned(), after.getTotalBalance());
  }

  @Test
  @Order(4)
  void everyNodeHasTheSameRootAtTheSameIndex() throws Exception {
    long index = client.summary().getStamp().getAppliedIndex();
    cluster.awaitApplied(index, Duration.ofSeconds(20));
    assertTrue(cluster.assertRootsAgree(Duration.ofSeconds(20)) >= index);
  }
}
