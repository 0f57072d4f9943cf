package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.CairnException;
import io.cairn.client.Ops;
import io.cairn.client.Subscription;
import io.cairn.proto.Account;
import io.cairn.proto.ListAccountsResponse;
import io.cairn.proto.Operation;
import io.cairn.proto.OperationEvent;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ResultCode;
import io.cairn.proto.WatchResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 7: Watch streams every committed ledger entry from any node, in order, with no gap and no
 * duplicate; resumes on another node when the one it reads from dies; says COMPACTED instead of
 * skipping; and a consumer that stops reading pauses the node rather than making it buffer.
 */
class WatchTest {
  @TempDir Path data;

  /** Everything a subscription delivered, checked as it arrives. */
  static final class Delivered {
    final List<WatchResponse> entries = new ArrayList<>();
    final Map<String, Integer> appliedTimes = new HashMap<>();
    final Map<String, Account> lastState = new HashMap<>();

    void add(WatchResponse e) {
      if (!entries.isEmpty()) {
        WatchResponse prev = entries.get(entries.size() - 1);
        assertTrue(e.getIndex() > prev.getIndex(), "out of order: " + e.getIndex());
        assertEquals(prev.getIndex(), e.getPrevIndex(), "gap before " + e.getIndex());
      }
      entries.add(e);
      for (OperationEvent ev : e.getEventsList()) {
        OperationResult r = ev.getResult();
        assertEquals(ev.getOperation().getId(), r.getId());
        if (!r.getReplayed() && r.getCode() == ResultCode.OK) {
          appliedTimes.merge(r.getId(), 1, Integer::sum);
          assertEquals(e.getIndex(), r.getAppliedIndex());
        }
        for (Account a : ev.getChangedList()) {
          Account before = lastState.put(a.getId(), a);
          if (before != null) {
            assertEquals(before.getVersion() + 1, a.getVersion(), "version skipped: " + a.getId());
          }
        }
      }
    }

    long last() {
      return entries.isEmpty() ? 0 : entries.get(entries.size() - 1).getIndex();
    }

    /** Polls until an entry at or beyond {@code index} was delivered (bounded). */
    void until(Subscription s, long index, Duration timeout) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (last() < index) {
        assertTrue(
            System.nanoTime() < deadline, "index " + index + " not delivered; last " + last());
        WatchResponse e = s.poll(Duration.ofMillis(200));
        if (e != null) {
          add(e);
        }
      }
    }

    /** Every op applied exactly once, and the folded account states equal the final ledger. */
    void assertMatchesLedger(CairnClient client, Map<String, ResultCode> acked, String prefix) {
      for (Map.Entry<String, ResultCode> a : acked.entrySet()) {
        if (a.getValue() == ResultCode.OK) {
          assertEquals(
              1, appliedTimes.getOrDefault(a.getKey(), 0), "applications of " + a.getKey());
        }
      }
      appliedTimes.forEach((id, n) -> assertEquals(1, n, "applications of " + id));
      Map<String, Account> actual = new HashMap<>();
      String after = "";
      for (int page = 0; page < 100; page++) {
        ListAccountsResponse r = client.listAccounts(after, 1000);
        for (Account a : r.getAccountsList()) {
          if (a.getId().startsWith(prefix)) {
            actual.put(a.getId(), a);
          }
        }
        if (r.getNextStartAfter().isEmpty()) {
          break;
        }
        after = r.getNextStartAfter();
      }
      Map<String, Account> folded = new HashMap<>();
      lastState.forEach(
          (id, a) -> {
            if (id.startsWith(prefix)) {
              folded.put(id, a);
            }
          });
      assertEquals(actual, folded, "the stream's account states differ from the final ledger");
    }
  }

  private static CairnClient client(LocalCluster cluster, List<String> endpoints) {
    return cluster
        .clientBuilder()
        .endpoints(endpoints)
        .totalTimeout(Duration.ofSeconds(20))
        .build();
  }

  /** Endpoints with node {@code first} in front: a new subscription reads from it. */
  private static List<String> endpointsFrom(LocalCluster c, int first) {
    List<String> out = new ArrayList<>();
    out.add(c.endpoint(first));
    for (int i = 1; i <= c.size(); i++) {
      if (i != first) {
        out.add(c.endpoint(i));
      }
    }
    return out;
  }

  private static int aFollower(LocalCluster c, int leader) {
    return leader == 1 ? 2 : 1;
  }

  private static long maxAppliedIndex(Iterable<OperationResult> results) {
    long max = 0;
    for (OperationResult r : results) {
      max = Math.max(max, r.getAppliedIndex());
    }
    return max;
  }

  @Test
  void aFollowerStreamsEveryTransferInOrderWithoutGapOrDuplicate() throws Exception {
    try (LocalCluster cluster = new LocalCluster("watch-order", 3, data, Map.of()).start();
        CairnClient writer = client(cluster, cluster.endpoints())) {
      int follower = aFollower(cluster, cluster.awaitLeader(Duration.ofSeconds(10)));
      try (CairnClient reader = client(cluster, List.of(cluster.endpoint(follower)));
          Subscription sub = reader.subscribe(1)) {
        TransferLoad load = new TransferLoad("order", 5, 1_000);
        load.setUp(writer);
        // Concurrent async transfers, so entries hold many operations each.
        List<CompletableFuture<OperationResult>> pending = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
          pending.add(writer.transferAsync(load.account(i % 5), load.account((i + 1) % 5), 1));
        }
        List<OperationResult> results = new ArrayList<>();
        Map<String, ResultCode> acked = new HashMap<>();
        for (CompletableFuture<OperationResult> f : pending) {
          OperationResult r = f.get();
          results.add(r);
          acked.put(r.getId(), r.getCode());
        }
        Delivered d = new Delivered();
        d.until(sub, maxAppliedIndex(results), Duration.ofSeconds(30));
        // The reader knows only the follower: should its stream be cut under load, it resumes
        // there, so every entry is the follower's.
        for (WatchResponse e : d.entries) {
          assertEquals("n" + follower, e.getNodeId(), "served by the follower asked");
        }
        d.assertMatchesLedger(writer, acked, "order-acct-");
        assertEquals(d.last(), sub.lastDeliveredIndex());
        System.out.printf(
            "watch-order: %d entries, %d applied ops, through index %d%n",
            d.entries.size(), d.appliedTimes.size(), d.last());
      }
    }
  }

  @Test
  void killingTheWatchedFollowerResumesElsewhereWithoutGapOrDuplicate() throws Exception {
    resumeAfterKill(false);
  }

  @Test
  void killingTheWatchedLeaderResumesElsewhereWithoutGapOrDuplicate() throws Exception {
    resumeAfterKill(true);
  }

  private void resumeAfterKill(boolean killLeader) throws Exception {
    String name = killLeader ? "watch-kill-leader" : "watch-kill-follower";
    try (LocalCluster cluster = new LocalCluster(name, 3, data, Map.of()).start();
        CairnClient writer = client(cluster, cluster.endpoints())) {
      int leader = cluster.awaitLeader(Duration.ofSeconds(10));
      int watched = killLeader ? leader : aFollower(cluster, leader);
      String prefix = killLeader ? "kl" : "kf";
      TransferLoad load = new TransferLoad(prefix, 6, 1_000_000);
      load.setUp(writer);
      try (CairnClient reader = client(cluster, endpointsFrom(cluster, watched));
          Subscription sub = reader.subscribe(1, 16)) {
        Delivered d = new Delivered();
        var workers = load.start(writer, 4, Duration.ofSeconds(40));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (d.entries.size() < 30 && System.nanoTime() < deadline) {
          WatchResponse e = sub.poll(Duration.ofMillis(200));
          if (e != null) {
            d.add(e);
          }
        }
        assertTrue(d.entries.size() >= 30, "too few entries before the kill: " + d.entries.size());
        cluster.kill(watched);
        long beforeKill = d.last();
        // Keep consuming while writers continue (through an election when the leader died).
        long until = System.nanoTime() + Duration.ofSeconds(4).toNanos();
        while (System.nanoTime() < until) {
          WatchResponse e = sub.poll(Duration.ofMillis(200));
          if (e != null) {
            d.add(e);
          }
        }
        load.stop();
        TransferLoad.join(workers, Duration.ofSeconds(30));
        cluster.awaitLeader(Duration.ofSeconds(30));
        // A final write marks the end: everything up to its index must arrive.
        OperationResult end = writer.createAccount(prefix + "-end");
        assertEquals(ResultCode.OK, end.getCode());
        d.until(sub, end.getAppliedIndex(), Duration.ofSeconds(30));
        assertTrue(d.last() > beforeKill, "nothing delivered after the kill");
        long servedElsewhere =
            d.entries.stream().filter(e -> !e.getNodeId().equals("n" + watched)).count();
        assertTrue(servedElsewhere > 0, "the stream never moved off the killed node");
        Map<String, ResultCode> acked = new HashMap<>(load.acked);
        d.assertMatchesLedger(writer, acked, prefix + "-acct-");
        // Unknown outcomes: applied at most once, and the ledger decides (checked by the fold).
        load.verify(writer);
        System.out.printf(
            "%s: killed n%d after index %d; %d entries (%d from other nodes), %d ops applied%n",
            name, watched, beforeKill, d.entries.size(), servedElsewhere, d.appliedTimes.size());
      }
    }
  }

  @Test
  void aNodeCutOffFromTheLeaderEndsItsStreamsAndTheWatchResumesWithoutGap() throws Exception {
    try (LocalCluster cluster = new LocalCluster("watch-cut-off", 3, data, Map.of()).start();
        CairnClient writer = client(cluster, cluster.endpoints())) {
      int leader = cluster.awaitLeader(Duration.ofSeconds(10));
      int watched = aFollower(cluster, leader);
      int other = 6 - leader - watched;
      TransferLoad load = new TransferLoad("cut", 4, 1_000);
      load.setUp(writer);
      try (CairnClient reader =
              cluster
                  .clientBuilder()
                  .endpoints(endpointsFrom(cluster, watched))
                  .totalTimeout(Duration.ofSeconds(40))
                  .build();
          Subscription sub = reader.subscribe(1)) {
        Delivered d = new Delivered();
        long setUpEnd = writer.transfer(load.account(0), load.account(1), 1).getAppliedIndex();
        d.until(sub, setUpEnd, Duration.ofSeconds(20));
        assertEquals(1, metric(cluster, watched, "cairn_watch_watchers"));
        // The watched node is left alone: no leader, nothing new to apply, still answering.
        cluster.kill(leader);
        cluster.kill(other);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        double open = 1;
        while (open > 0 && System.nanoTime() < deadline) {
          assertNull(sub.poll(Duration.ofMillis(500)));
          open = metric(cluster, watched, "cairn_watch_watchers");
        }
        assertEquals(0, open, "the leaderless node kept its watcher");
        assertTrue(cluster.log(watched).contains("ending 1 watch streams"), "no log line");
        cluster.startNode(leader);
        cluster.startNode(other);
        cluster.awaitLeader(Duration.ofSeconds(30));
        OperationResult end = writer.transfer(load.account(1), load.account(2), 1);
        assertEquals(ResultCode.OK, end.getCode());
        d.until(sub, end.getAppliedIndex(), Duration.ofSeconds(40));
        System.out.printf(
            "watch-cut-off: n%d alone ended its stream; resumed through index %d, %d entries%n",
            watched, d.last(), d.entries.size());
      }
    }
  }

  @Test
  void aWatcherBehindTheWindowIsServedFromTheStoreWithoutAGap() throws Exception {
    Map<String, String> small = Map.of("watch.retention.entries", "20");
    try (LocalCluster cluster = new LocalCluster("watch-behind", 3, data, small).start();
        CairnClient client = client(cluster, cluster.endpoints())) {
      assertEquals(ResultCode.OK, client.createAccount("cmp-a").getCode());
      assertEquals(ResultCode.OK, client.mint("cmp-a", 1_000_000).getCode());
      assertEquals(ResultCode.OK, client.createAccount("cmp-b").getCode());
      // A subscriber that stops reading: buffer of 1, never polled while the log moves on.
      Subscription paused = client.subscribe(0, 1);
      long last = 0;
      for (int i = 0; i < 60; i++) {
        last = bigBatch(client, "cmp", i).getAppliedIndex();
      }
      cluster.awaitApplied(last, Duration.ofSeconds(30));
      // 1. Index 1, long out of every node's window (20 entries): served from the history store,
      // the whole log in order, each entry naming the one before it.
      try (Subscription old = client.subscribe(1)) {
        Delivered d = new Delivered();
        d.until(old, last, Duration.ofSeconds(30));
        assertEquals(0, d.entries.get(0).getPrevIndex(), "the first entry names none before it");
        assertEquals(
            60 * 500, d.appliedTimes.keySet().stream().filter(id -> id.startsWith("cmp-")).count());
      }
      // 2. The paused subscriber fell out of the window: it resumes from the store, no gap.
      Delivered p = new Delivered();
      p.until(paused, last, Duration.ofSeconds(30));
      paused.close();
      p.assertMatchesLedger(client, Map.of(), "cmp-");
    }
  }

  @Test
  void aNodeRestartedFromASnapshotServesTheWholeLogFromItsStore() throws Exception {
    Map<String, String> snapshotOften =
        Map.of("raft.snapshot.threshold.entries", "20", "raft.log.purge.gap", "5");
    try (LocalCluster cluster = new LocalCluster("watch-snapshot", 3, data, snapshotOften).start();
        CairnClient client = client(cluster, cluster.endpoints())) {
      client.createAccount("snap-a");
      client.mint("snap-a", 1_000);
      client.createAccount("snap-b");
      for (int i = 0; i < 40; i++) {
        client.transfer("snap-a", "snap-b", 1);
      }
      cluster.restart(1);
      cluster.awaitLeader(Duration.ofSeconds(30));
      OperationResult mark = client.transfer("snap-a", "snap-b", 1);
      cluster.awaitApplied(mark.getAppliedIndex(), Duration.ofSeconds(30));
      assertTrue(cluster.log(1).contains("loaded snapshot"), "n1 did not restore from a snapshot");
      try (CairnClient pinned = client(cluster, List.of(cluster.endpoint(1)));
          Subscription fromStart = pinned.subscribe(1)) {
        Delivered d = new Delivered();
        d.until(fromStart, mark.getAppliedIndex(), Duration.ofSeconds(20));
        assertEquals(0, d.entries.get(0).getPrevIndex());
        assertEquals(44, d.appliedTimes.size(), "2 accounts, a mint, 41 transfers");
        assertTrue(d.entries.stream().allMatch(e -> e.getNodeId().equals("n1")), "served by n1");
        d.assertMatchesLedger(client, Map.of(), "snap-");
      }
    }
  }

  /** One Submit of 500 transfers between cmp-a and cmp-b: one large log entry. */
  private static OperationResult bigBatch(CairnClient client, String prefix, int round) {
    List<Operation> ops = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      ops.add(
          Ops.transfer(
              prefix + "-" + round + "-" + i + "-" + "x".repeat(40),
              i % 2 == 0 ? prefix + "-a" : prefix + "-b",
              i % 2 == 0 ? prefix + "-b" : prefix + "-a",
              1));
    }
    var r = client.submit(ops, false);
    return r.getResults(r.getResultsCount() - 1);
  }

  @Test
  void aSlowConsumerPausesTheNodeInsteadOfMakingItBuffer() throws Exception {
    try (LocalCluster cluster = new LocalCluster("watch-slow", 3, data, Map.of()).start();
        CairnClient writer = client(cluster, cluster.endpoints())) {
      int leader = cluster.awaitLeader(Duration.ofSeconds(10));
      int follower = aFollower(cluster, leader);
      assertEquals(ResultCode.OK, writer.createAccount("slow-a").getCode());
      assertEquals(ResultCode.OK, writer.mint("slow-a", 1_000_000).getCode());
      assertEquals(ResultCode.OK, writer.createAccount("slow-b").getCode());
      try (CairnClient reader = client(cluster, endpointsFrom(cluster, follower));
          Subscription sub = reader.subscribe(0, 4)) {
        double sentBefore = metric(cluster, follower, "cairn_watch_entries_sent_total");
        int written = 120;
        long last = 0;
        for (int i = 0; i < written; i++) {
          last = bigBatch(writer, "slow", i).getAppliedIndex();
        }
        cluster.awaitApplied(last, Duration.ofSeconds(60));
        Thread.sleep(1000); // let the node send whatever the transport accepts
        double sent = metric(cluster, follower, "cairn_watch_entries_sent_total") - sentBefore;
        double behind = metric(cluster, follower, "cairn_watch_behind_max_entries");
        assertEquals(1, metric(cluster, follower, "cairn_watch_watchers"));
        // Nothing was polled: what the node sent sits in the client's 4-entry buffer and the
        // HTTP/2 windows. It must be a small part of the 120 entries (each ~40 KB).
        assertTrue(sent < written / 2.0, "node sent " + sent + " of " + written + " entries");
        assertTrue(behind > 0, "node reports no watcher behind");
        // Reading resumes the flow and every entry arrives.
        Delivered d = new Delivered();
        d.until(sub, last, Duration.ofSeconds(60));
        System.out.printf(
            "watch-slow: %d entries written, %.0f sent while the consumer paused, %d delivered%n",
            written, sent, d.entries.size());
      }
    }
  }

  @Test
  void tooManyWatchersAreRefusedAndCloseWakesAPoller() throws Exception {
    try (LocalCluster cluster =
            new LocalCluster("watch-limit", 1, data, Map.of("watch.max.watchers", "2")).start();
        CairnClient client = client(cluster, cluster.endpoints())) {
      client.createAccount("lim-a");
      Subscription one = client.subscribe(1);
      Subscription two = client.subscribe(1);
      assertNotNull(one.poll(Duration.ofSeconds(10)));
      assertNotNull(two.poll(Duration.ofSeconds(10)));
      // The third is refused with RESOURCE_EXHAUSTED and keeps retrying within its budget; a
      // freed slot lets it in.
      try (Subscription three = client.subscribe(1)) {
        assertEquals(null, three.poll(Duration.ofMillis(500)));
        // (A refused attempt counts itself for an instant: allow a second look.)
        double open = metric(cluster, 1, "cairn_watch_watchers");
        if (open != 2) {
          Thread.sleep(100);
          open = metric(cluster, 1, "cairn_watch_watchers");
        }
        assertEquals(2, open);
        one.close();
        assertNotNull(three.poll(Duration.ofSeconds(10)));
      }
      CompletableFuture<Throwable> woken =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  while (true) {
                    two.poll(Duration.ofSeconds(30));
                  }
                } catch (CairnException e) {
                  return e;
                }
              });
      Thread.sleep(200);
      two.close();
      Throwable t = woken.get(5, java.util.concurrent.TimeUnit.SECONDS);
      assertEquals(io.grpc.Status.Code.CANCELLED, ((CairnException) t).code());
    }
  }

  @Test
  void rawWatchFromNowStreamsNewEntriesAndAnImpossibleIndexIsInvalid() throws Exception {
    try (LocalCluster cluster = new LocalCluster("watch-raw", 1, data, Map.of()).start();
        CairnClient client = client(cluster, cluster.endpoints())) {
      client.createAccount("raw-a");
      io.grpc.ManagedChannel channel = cluster.tlsChannel(cluster.endpoint(1), "admin");
      try {
        var stub =
            io.cairn.proto.LedgerServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(20, java.util.concurrent.TimeUnit.SECONDS);
        long before = client.status().getAppliedIndex();
        var stream = stub.watch(io.cairn.proto.WatchRequest.newBuilder().setFromIndex(0).build());
        // "Now" is when the node handles the call, which may be after a first write: keep
        // writing (bounded) until the stream shows one.
        java.util.concurrent.atomic.AtomicBoolean seen =
            new java.util.concurrent.atomic.AtomicBoolean();
        CompletableFuture<Void> writes =
            CompletableFuture.runAsync(
                () -> {
                  for (int i = 0; i < 40 && !seen.get(); i++) {
                    client.createAccount("raw-b" + i);
                    try {
                      Thread.sleep(300);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                      return;
                    }
                  }
                });
        WatchResponse first = stream.next();
        seen.set(true);
        writes.get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(first.getIndex() > before, first.getIndex() + " <= " + before);
        assertTrue(first.getEvents(0).getChanged(0).getId().startsWith("raw-b"));
        var bad = stub.watch(io.cairn.proto.WatchRequest.newBuilder().setFromIndex(-1L).build());
        io.grpc.StatusRuntimeException e =
            assertThrows(io.grpc.StatusRuntimeException.class, bad::hasNext);
        assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
      } finally {
        channel.shutdownNow();
        channel.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void aNodeWithWatchSwitchedOffSaysSoAndStillApplies() throws Exception {
    try (LocalCluster cluster =
            new LocalCluster("watch-off", 1, data, Map.of("watch.enabled", "0")).start();
        CairnClient client = client(cluster, cluster.endpoints())) {
      assertEquals(ResultCode.OK, client.createAccount("off-a").getCode());
      try (Subscription s = client.subscribe(1)) {
        CairnException e = assertThrows(CairnException.class, () -> s.poll(Duration.ofSeconds(20)));
        assertEquals(io.grpc.Status.Code.FAILED_PRECONDITION, e.code());
      }
      assertEquals(0, metric(cluster, 1, "cairn_watch_window_entries"));
    }
  }

  private static double metric(LocalCluster c, int node, String series)
      throws IOException, InterruptedException {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(c.metricsUrl(node) + "/metrics"))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    double sum = 0;
    boolean found = false;
    for (String line : r.body().split("\n")) {
      if (line.startsWith(series + "{") || line.startsWith(series + " ")) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        found = true;
      }
    }
    assertTrue(found, "no series " + series + " on n" + node);
    return sum;
  }
}
