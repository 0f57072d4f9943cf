package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cairn.client.CairnClient;
import io.cairn.client.Subscription;
import io.cairn.proto.Consistency;
import io.cairn.proto.GetTransferResponse;
import io.cairn.proto.ListTransfersRequest;
import io.cairn.proto.ListTransfersResponse;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ReadOptions;
import io.cairn.proto.ResultCode;
import io.cairn.proto.StatementLine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, acceptance 3 and 4 on a real cluster, with a dedupe window of one second and a table of
 * ten ids: every transfer stays findable and its retry returns the first result long after it left
 * the window; a kill -9 of every node loses none of that history; statements equal a replay of the
 * acknowledged transfers; and a member that joins after the log was purged gets the history with
 * the leader's snapshot (a RocksDB checkpoint), serves the same statement, and streams Watch from
 * the log's first entry.
 */
class HistoryTest {
  @TempDir Path data;

  private static final Map<String, String> SETTINGS =
      Map.of(
          "raft.snapshot.threshold.entries", "30",
          "raft.log.purge.gap", "5",
          "ledger.dedupe.window.millis", "1000",
          "ledger.dedupe.max.entries", "10");

  private record Sent(String id, long createdAt, long amount, OperationResult result) {}

  @Test
  void historyOutlivesTheWindowAWholeClusterCrashAndReachesANewMember() throws Exception {
    try (LocalCluster cluster =
            new LocalCluster("history", 4, data, SETTINGS).initialMembers(3).start();
        CairnClient client =
            cluster
                .clientBuilder()
                .endpoints(cluster.endpoints())
                .totalTimeout(Duration.ofSeconds(60))
                .build()) {
      assertEquals(ResultCode.OK, client.createAccount("alice").getCode());
      assertEquals(ResultCode.OK, client.createAccount("bob").getCode());
      assertEquals(ResultCode.OK, client.mint("alice", 1_000_000).getCode());
      List<Sent> sent = new ArrayList<>();
      for (int i = 0; i < 80; i++) {
        long at = System.currentTimeMillis();
        String id = "h-" + i;
        long amount = i + 1;
        OperationResult r = client.transfer(id, at, "alice", "bob", amount);
        assertEquals(ResultCode.OK, r.getCode(), id);
        sent.add(new Sent(id, at, amount, r));
      }
      Thread.sleep(1500); // every transfer is now older than the window, and evicted by count
      assertRetriesReplay(client, sent);
      List<StatementLine> before = statement(client, "alice", ReadOptions.getDefaultInstance());
      assertStatementReplays(before, sent);

      for (int node = 1; node <= 3; node++) {
        cluster.kill(node);
      }
      for (int node = 1; node <= 3; node++) {
        cluster.startNode(node);
      }
      cluster.awaitLeader(Duration.ofSeconds(60));
      assertRetriesReplay(client, sent);
      assertEquals(before, statement(client, "alice", ReadOptions.getDefaultInstance()));

      cluster.startNode(4);
      cluster.awaitServing(4, Duration.ofSeconds(60));
      client.addMember("n4", cluster.raftAddress(4), cluster.endpoint(4));
      long index = client.summary().getStamp().getAppliedIndex();
      ReadOptions onN4 =
          ReadOptions.newBuilder()
              .setConsistency(Consistency.STALE)
              .setMinAppliedIndex(index)
              .build();
      try (CairnClient n4 =
          cluster
              .clientBuilder()
              .endpoints(List.of(cluster.endpoint(4)))
              .totalTimeout(Duration.ofSeconds(60))
              .build()) {
        assertEquals(before, statement(n4, "alice", onN4));
        assertEquals(sent.size() + 1, statement(n4, "bob", onN4).size(), "bob: create + transfers");
        // The checkpoint carried every entry's Watch event: n4 serves the log from its start.
        try (Subscription fromStart = n4.subscribe(1)) {
          WatchTest.Delivered d = new WatchTest.Delivered();
          d.until(
              fromStart,
              sent.get(sent.size() - 1).result().getAppliedIndex(),
              Duration.ofSeconds(60));
          assertEquals(0, d.entries.get(0).getPrevIndex(), "n4's stream starts at the log's start");
          for (Sent x : sent) {
            assertEquals(1, d.appliedTimes.getOrDefault(x.id(), 0), x.id() + " on n4's stream");
          }
          assertTrue(d.entries.stream().allMatch(e -> e.getNodeId().equals("n4")), "served by n4");
        }
      }
      assertTrue(
          cluster.log(4).contains("history store installed from checkpoint"),
          "n4 did not take the history from the leader's snapshot");
      cluster.assertRootsAgree(Duration.ofSeconds(60));
    }
  }

  private static void assertRetriesReplay(CairnClient client, List<Sent> sent) {
    for (Sent s : List.of(sent.get(0), sent.get(sent.size() / 2), sent.get(sent.size() - 1))) {
      OperationResult retry = client.transfer(s.id(), s.createdAt(), "alice", "bob", s.amount());
      assertEquals(ResultCode.OK, retry.getCode(), s.id());
      assertTrue(retry.getReplayed(), s.id() + " was applied again: " + retry);
      assertEquals(s.result().getAppliedIndex(), retry.getAppliedIndex(), s.id());
      GetTransferResponse found = client.getTransfer(s.id());
      assertTrue(found.getFound(), s.id() + " is not found");
      assertEquals(s.result().getAppliedIndex(), found.getResult().getAppliedIndex());
    }
    long total = sent.stream().mapToLong(Sent::amount).sum();
    assertEquals(total, client.getAccount("bob").getAccount().getBalance(), "bob's balance");
  }

  /** alice's statement: her creation, the mint, then each transfer once, in the order sent. */
  private static void assertStatementReplays(List<StatementLine> lines, List<Sent> sent) {
    assertEquals(sent.size() + 2, lines.size());
    assertEquals("create-account", kind(lines.get(0)));
    assertEquals(1_000_000, lines.get(1).getCredit());
    long balance = 1_000_000;
    long lastIndex = lines.get(1).getAppliedIndex();
    for (int i = 0; i < sent.size(); i++) {
      StatementLine l = lines.get(i + 2);
      balance -= sent.get(i).amount();
      assertEquals(sent.get(i).id(), l.getOperation().getId());
      assertEquals(sent.get(i).amount(), l.getDebit());
      assertEquals(balance, l.getBalanceAfter(), "balance after " + sent.get(i).id());
      assertEquals(sent.get(i).result().getAppliedIndex(), l.getAppliedIndex());
      assertTrue(l.getAppliedIndex() > lastIndex, "log order");
      lastIndex = l.getAppliedIndex();
    }
  }

  private static String kind(StatementLine l) {
    return l.getOperation().hasCreateAccount() ? "create-account" : "other";
  }

  /** The whole statement, five lines a page (so paging is exercised), at most 100 pages. */
  static List<StatementLine> statement(CairnClient client, String account, ReadOptions read) {
    List<StatementLine> all = new ArrayList<>();
    ByteString token = ByteString.EMPTY;
    for (int page = 0; page < 100; page++) {
      ListTransfersResponse r =
          client.listTransfers(
              ListTransfersRequest.newBuilder()
                  .setAccount(account)
                  .setLimit(5)
                  .setPageToken(token)
                  .setRead(read)
                  .build());
      all.addAll(r.getLinesList());
      token = r.getNextPageToken();
      if (token.isEmpty()) {
        return all;
      }
    }
    assertFalse(true, "more than 100 pages");
    return all;
  }
}
