package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.Ops;
import io.cairn.proto.Operation;
import io.cairn.proto.ResultCode;
import io.cairn.proto.SubmitResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 3, acceptance 4, and issue 4, acceptance 3: a whole-cluster crash loses nothing that was
 * acknowledged; nodes come back from snapshot plus log with identical state; a snapshot with one
 * flipped byte is refused with an error naming the file, and the node does not serve.
 */
class RestartFromSnapshotTest {
  @TempDir Path data;

  private static final Map<String, String> SNAPSHOT_OFTEN =
      Map.of("raft.snapshot.threshold.entries", "40", "raft.log.purge.gap", "5");

  @Test
  void killingEveryNodeAndRestartingLosesNothing() throws Exception {
    try (LocalCluster cluster = new LocalCluster("restart-all", 3, data, SNAPSHOT_OFTEN).start();
        CairnClient client = cluster.clientBuilder().build()) {
      TransferLoad load = new TransferLoad("restart", 8, 100_000);
      load.setUp(client);
      var workers = load.start(client, 4, Duration.ofSeconds(4));
      TransferLoad.join(workers, Duration.ofSeconds(30));
      assertTrue(load.okCount() > 50, "too few transfers to cross a snapshot: " + load.okCount());

      for (int node = 1; node <= 3; node++) {
        cluster.kill(node);
      }
      for (int node = 1; node <= 3; node++) {
        assertFalse(snapshots(cluster.dataDir(node)).isEmpty(), "n" + node + " took no snapshot");
        cluster.startNode(node);
      }
      cluster.awaitLeader(Duration.ofSeconds(60));
      load.verify(client);
      long index = client.summary().getStamp().getAppliedIndex();
      cluster.awaitApplied(index, Duration.ofSeconds(60));
      var roots =
          Stream.of(1, 2, 3)
              .map(n -> cluster.status(n).orElseThrow())
              .filter(s -> s.getAppliedIndex() == index)
              .map(s -> s.getStateRoot())
              .distinct()
              .count();
      assertEquals(1, roots, "roots differ at index " + index);
      assertTrue(cluster.log(1).contains("loaded snapshot"), "n1 did not restore from a snapshot");
    }
  }

  @Test
  void aSnapshotWithOneFlippedByteIsRefusedAndTheNodeDoesNotServe() throws Exception {
    try (LocalCluster cluster = new LocalCluster("corrupt", 3, data, SNAPSHOT_OFTEN).start();
        CairnClient client = cluster.clientBuilder().build()) {
      TransferLoad load = new TransferLoad("corrupt", 4, 1000);
      load.setUp(client);
      for (int i = 0; i < 60; i++) {
        client.transfer(load.account(i % 4), load.account((i + 1) % 4), 1);
      }
      cluster.kill(3);
      List<Path> snaps = snapshots(cluster.dataDir(3));
      assertFalse(snaps.isEmpty(), "n3 took no snapshot");
      Path newest = snaps.get(snaps.size() - 1);
      byte[] bytes = Files.readAllBytes(newest);
      bytes[bytes.length / 2] ^= 0x01;
      Files.write(newest, bytes);

      Process p = cluster.startNode(3);
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "node with a corrupt snapshot kept running");
      assertEquals(1, p.exitValue());
      String log = cluster.log(3);
      assertTrue(
          log.contains(newest.getFileName().toString()),
          "the error does not name the snapshot file:\n" + tail(log));
      assertTrue(cluster.status(3).isEmpty(), "n3 answers although its snapshot is corrupt");
    }
  }

  @Test
  void aFollowerBehindThePurgedLogCatchesUpFromASnapshotOfManyChunks() throws Exception {
    long chunk = 64 * 1024;
    Map<String, String> settings =
        Map.of(
            "raft.snapshot.threshold.entries",
            "20",
            "raft.log.purge.gap",
            "5",
            // Only closed segments are purged: small ones, so the log is gone past n3's index.
            "raft.log.segment.bytes",
            Long.toString(1024 * 1024),
            "raft.snapshot.chunk.bytes",
            Long.toString(chunk));
    try (LocalCluster cluster = new LocalCluster("install", 3, data, settings).start();
        CairnClient client =
            cluster
                .clientBuilder()
                .endpoints(cluster.endpoints())
                .totalTimeout(Duration.ofSeconds(60))
                .build()) {
      TransferLoad load = new TransferLoad("install", 8, 1_000_000_000L);
      load.setUp(client);
      int leader = cluster.awaitLeader(Duration.ofSeconds(30));
      int behind = leader == 3 ? 2 : 3;
      long killedAt = client.summary().getStamp().getAppliedIndex();
      cluster.kill(behind);
      // 40 entries of 1,000 transfers (~3 MB of log): two snapshots, closed segments purged on
      // the others, and enough remembered operation ids that a snapshot spans many chunks.
      for (int r = 0; r < 40; r++) {
        List<Operation> ops = new java.util.ArrayList<>();
        for (int i = 0; i < 1000; i++) {
          ops.add(
              Ops.transfer(
                  "install-" + r + "-" + i, load.account(i % 8), load.account((i + 1) % 8), 1));
        }
        SubmitResponse response = client.submit(ops, false);
        assertTrue(
            response.getResultsList().stream().allMatch(x -> x.getCode() == ResultCode.OK),
            "entry " + r + " not all OK");
      }
      List<Path> leaderSnaps = snapshots(cluster.dataDir(leader));
      assertFalse(leaderSnaps.isEmpty(), "the leader took no snapshot");
      long snapBytes = Files.size(leaderSnaps.get(leaderSnaps.size() - 1));
      assertTrue(snapBytes > 4 * chunk, "snapshot of " + snapBytes + " bytes is not many chunks");

      cluster.startNode(behind);
      long index = client.summary().getStamp().getAppliedIndex();
      cluster.awaitApplied(index, Duration.ofSeconds(60));
      cluster.assertRootsAgree(Duration.ofSeconds(60));
      long installedAt =
          java.util.regex.Pattern.compile("loaded snapshot \\S+ index=(\\d+)")
              .matcher(cluster.log(behind))
              .results()
              .mapToLong(m -> Long.parseLong(m.group(1)))
              .max()
              .orElse(-1);
      assertTrue(
          installedAt > killedAt,
          "n"
              + behind
              + " (stopped at "
              + killedAt
              + ") did not install a newer snapshot:\n"
              + tail(cluster.log(behind)));
    }
  }

  static List<Path> snapshots(Path dataDir) throws IOException {
    try (Stream<Path> files = Files.walk(dataDir)) {
      return files
          .filter(f -> f.getFileName().toString().matches("snapshot\\.\\d+_\\d+"))
          .sorted(Comparator.comparingLong(RestartFromSnapshotTest::indexOf))
          .toList();
    }
  }

  private static long indexOf(Path snapshot) {
    String name = snapshot.getFileName().toString();
    return Long.parseLong(name.substring(name.indexOf('_') + 1));
  }

  private static String tail(String log) {
    return log.length() < 3000 ? log : log.substring(log.length() - 3000);
  }
}
