package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cairn.client.CairnClient;
import io.cairn.proto.BackupManifest;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ReadOptions;
import io.cairn.proto.ResultCode;
import io.cairn.proto.SaveSnapshotRequest;
import io.cairn.proto.SnapshotChunk;
import io.cairn.proto.StatementLine;
import io.cairn.proto.backup.Backup;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, acceptance 5: an online backup of a node under load, restored into a fresh three-node
 * cluster, serves the same balances, statements and root; a retry of an id applied before the
 * backup returns its first result there; the new cluster takes writes. Only an admin may take a
 * backup, and a corrupt backup is refused with nothing left behind.
 */
class BackupRestoreTest {
  @TempDir Path data;

  private static final Map<String, String> SETTINGS =
      Map.of("raft.snapshot.threshold.entries", "40", "raft.log.purge.gap", "5");

  private record Sent(String id, long createdAt, long amount, OperationResult result) {}

  @Test
  void aBackupRestoredIntoANewClusterServesTheSameLedger() throws Exception {
    Path backup = data.resolve("ledger.backup");
    List<Sent> sent = new ArrayList<>();
    List<StatementLine> aliceBefore;
    long bobBefore;
    BackupManifest manifest;
    try (LocalCluster old =
            new LocalCluster("backup-old", 3, data.resolve("old"), SETTINGS).start();
        CairnClient client = old.clientBuilder().totalTimeout(Duration.ofSeconds(60)).build()) {
      assertEquals(ResultCode.OK, client.createAccount("alice").getCode());
      assertEquals(ResultCode.OK, client.createAccount("bob").getCode());
      assertEquals(ResultCode.OK, client.mint("alice", 1_000_000).getCode());
      for (int i = 0; i < 60; i++) {
        long at = System.currentTimeMillis();
        String id = "b-" + i;
        sent.add(new Sent(id, at, i + 1, client.transfer(id, at, "alice", "bob", i + 1)));
      }
      // A follower's backup, taken while other writes go on (the root check proves consistency).
      TransferLoad load = new TransferLoad("bk", 4, 100_000);
      load.setUp(client);
      var workers = load.start(client, 2, Duration.ofSeconds(3));
      String follower = old.endpoint(followerOf(old));
      manifest = save(old, follower, "admin", backup);
      TransferLoad.join(workers, Duration.ofSeconds(30));
      assertRefusedToANonAdmin(old, follower);

      aliceBefore = HistoryTest.statement(client, "alice", ReadOptions.getDefaultInstance());
      bobBefore = client.getAccount("bob").getAccount().getBalance();
    }

    try (LocalCluster fresh = new LocalCluster("backup-new", 3, data.resolve("new"), SETTINGS)) {
      for (int n = 1; n <= 3; n++) {
        try (InputStream in = Files.newInputStream(backup)) {
          Backup.unpack(in, fresh.dataDir(n).resolve("restore"), x -> {});
        }
      }
      fresh.start();
      try (CairnClient client =
          fresh.clientBuilder().totalTimeout(Duration.ofSeconds(60)).build()) {
        long index = client.summary().getStamp().getAppliedIndex();
        assertTrue(index > manifest.getAppliedIndex(), "the log goes on after the backup");
        for (int n = 1; n <= 3; n++) {
          assertTrue(fresh.log(n).contains("installed the restore seed"), "n" + n + " not seeded");
          assertFalse(
              Files.exists(fresh.dataDir(n).resolve("restore")), "n" + n + " kept its seed");
        }
        // The backup's root: no write has reached the new cluster yet.
        assertEquals(manifest.getStateRoot(), client.status().getStateRoot());
        assertEquals(bobBefore, client.getAccount("bob").getAccount().getBalance());
        assertEquals(
            aliceBefore, HistoryTest.statement(client, "alice", ReadOptions.getDefaultInstance()));
        for (Sent s : List.of(sent.get(0), sent.get(sent.size() - 1))) {
          OperationResult retry =
              client.transfer(s.id(), s.createdAt(), "alice", "bob", s.amount());
          assertTrue(retry.getReplayed(), s.id() + " applied again after the restore: " + retry);
          assertEquals(s.result().getAppliedIndex(), retry.getAppliedIndex(), s.id());
        }
        assertEquals(ResultCode.OK, client.transfer("alice", "bob", 5).getCode());
        assertEquals(bobBefore + 5, client.getAccount("bob").getAccount().getBalance());
        fresh.assertRootsAgree(Duration.ofSeconds(60));
      }
    }
  }

  @Test
  void aCorruptBackupIsRefusedAndLeavesNothing() throws Exception {
    Path backup = data.resolve("ledger.backup");
    try (LocalCluster c =
            new LocalCluster("backup-corrupt", 3, data.resolve("c"), SETTINGS).start();
        CairnClient client = c.clientBuilder().build()) {
      OperationResult created = client.createAccount("alice");
      assertEquals(ResultCode.OK, created.getCode());
      c.awaitApplied(created.getAppliedIndex(), Duration.ofSeconds(30)); // n1 may follow
      save(c, c.endpoint(1), "admin", backup);
    }
    byte[] bytes = Files.readAllBytes(backup);
    bytes[bytes.length / 2] ^= 0x01;
    Path corrupt = data.resolve("corrupt.backup");
    Files.write(corrupt, bytes);
    Path seed = data.resolve("dir").resolve("restore");
    IOException e =
        assertThrows(
            IOException.class,
            () -> {
              try (InputStream in = Files.newInputStream(corrupt)) {
                Backup.unpack(in, seed, x -> {});
              }
            });
    assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
    assertFalse(Files.exists(seed), "a refused backup left its seed");
    assertFalse(Files.exists(seed.resolveSibling("restore.partial")), "left its partial seed");
  }

  private static void assertRefusedToANonAdmin(LocalCluster c, String endpoint) throws Exception {
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class, () -> save(c, endpoint, "mallory", Path.of("unused")));
    assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
  }

  /** A backup from {@code endpoint} as {@code user} into {@code file}, checked; its manifest. */
  static BackupManifest save(LocalCluster c, String endpoint, String user, Path file)
      throws Exception {
    ManagedChannel ch = c.tlsChannel(endpoint, user);
    try {
      Iterator<SnapshotChunk> chunks =
          LedgerServiceGrpc.newBlockingStub(ch)
              .withDeadlineAfter(60, TimeUnit.SECONDS)
              .saveSnapshot(SaveSnapshotRequest.getDefaultInstance());
      ByteString first = chunks.hasNext() ? chunks.next().getData() : ByteString.EMPTY;
      try (OutputStream out = Files.newOutputStream(file)) {
        first.writeTo(out);
        while (chunks.hasNext()) {
          chunks.next().getData().writeTo(out);
        }
      }
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    try (InputStream in = Files.newInputStream(file)) {
      return Backup.verify(in, x -> {});
    }
  }

  private static int followerOf(LocalCluster c) throws InterruptedException {
    int leader = c.awaitLeader(Duration.ofSeconds(30));
    return leader == 1 ? 2 : 1;
  }
}
