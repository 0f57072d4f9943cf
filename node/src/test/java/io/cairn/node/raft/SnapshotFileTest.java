package io.cairn.node.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.node.ledger.Caller;
import io.cairn.node.ledger.Ledger;
import io.cairn.node.ledger.LedgerLimits;
import io.cairn.proto.CreateAccount;
import io.cairn.proto.Operation;
import io.cairn.proto.SnapshotHeader;
import io.cairn.proto.SubmitRequest;
import java.nio.file.Path;
import org.apache.ratis.util.MD5FileUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotFileTest {
  private static final Caller ADMIN = new Caller("", true);

  @TempDir Path dir;

  @Test
  void theDigestComputedWhileWritingIsTheFilesMd5AndTheFileReadsBack() throws Exception {
    LedgerLimits limits = new LedgerLimits(600_000, 1000, 30_000, 1000);
    Ledger ledger = new Ledger(limits);
    SubmitRequest.Builder r = SubmitRequest.newBuilder();
    for (int i = 0; i < 300; i++) {
      r.addOperations(
          Operation.newBuilder()
              .setId("open-" + i)
              .setCreatedAtMillis(5_000)
              .setCreateAccount(CreateAccount.newBuilder().setAccount("acct-" + i)));
    }
    ledger.apply(5_000, 1, ADMIN, r.build().getOperationsList(), false);
    Path file = dir.resolve("snapshot.1_1");
    SnapshotHeader header =
        SnapshotHeader.newBuilder()
            .setFormatVersion(SnapshotFile.FORMAT_VERSION)
            .setAppliedIndex(1)
            .setAppliedTerm(1)
            .build();
    var md5 = SnapshotFile.write(file, header, ledger.snapshotCopy());
    assertEquals(MD5FileUtil.computeMd5ForFile(file.toFile()), md5);
    SnapshotFile.Loaded loaded = SnapshotFile.read(file, limits);
    assertEquals(header, loaded.header());
    assertEquals(300, loaded.ledger().totals().accountCount());
  }

  @Test
  void aFailedWriteLeavesNoTemporaryFileAndKeepsWhatWasThere() throws Exception {
    // The rename fails: the target is a directory that is not empty.
    Path target = dir.resolve("snapshot.1_2");
    java.nio.file.Files.createDirectories(target.resolve("in-the-way"));
    SnapshotHeader header =
        SnapshotHeader.newBuilder()
            .setFormatVersion(SnapshotFile.FORMAT_VERSION)
            .setAppliedIndex(2)
            .setAppliedTerm(1)
            .build();
    LedgerLimits limits = new LedgerLimits(600_000, 1000, 30_000, 1000);
    assertThrows(
        java.io.IOException.class,
        () -> SnapshotFile.write(target, header, new Ledger(limits).snapshotCopy()));
    try (var names = java.nio.file.Files.list(dir)) {
      assertEquals(java.util.List.of(target), names.toList(), "a .tmp file was left behind");
    }
    assertTrue(java.nio.file.Files.isDirectory(target.resolve("in-the-way")));
  }

  /**
   * A version 1 file (written before roles and owners) has no role grants, owners or principals,
   * and every version 2 reader field it lacks reads as empty: such a file, as the old node wrote
   * it, loads as a ledger without roles or owners.
   */
  @Test
  void aVersionOneSnapshotLoadsWithoutRolesOrOwners() throws Exception {
    LedgerLimits limits = new LedgerLimits(600_000, 1000, 30_000, 1000);
    Ledger ledger = new Ledger(limits);
    ledger.apply(5_000, 1, ADMIN, opens(3), false); // no principal: what a version 1 file holds
    Path file = dir.resolve("snapshot.1_1");
    SnapshotHeader v1 =
        SnapshotHeader.newBuilder()
            .setFormatVersion(1)
            .setAppliedIndex(1)
            .setAppliedTerm(1)
            .build();
    SnapshotFile.write(file, v1, ledger.snapshotCopy());
    Ledger loaded = SnapshotFile.read(file, limits).ledger();
    assertEquals(3, loaded.totals().accountCount());
    assertEquals("", loaded.account("acct-0").orElseThrow().getOwner());
    assertEquals(java.util.List.of(), loaded.roleGrants());
  }

  @Test
  void anUnknownFormatVersionIsRefusedNamingTheFileAndTheVersions() throws Exception {
    LedgerLimits limits = new LedgerLimits(600_000, 1000, 30_000, 1000);
    for (int version : new int[] {0, SnapshotFile.FORMAT_VERSION + 1}) {
      Path file = dir.resolve("snapshot.v" + version);
      SnapshotHeader h = SnapshotHeader.newBuilder().setFormatVersion(version).build();
      SnapshotFile.write(file, h, new Ledger(limits).snapshotCopy());
      var e = assertThrows(java.io.IOException.class, () -> SnapshotFile.read(file, limits));
      assertTrue(
          e.getMessage().contains(file.toString())
              && e.getMessage().contains("format version " + version)
              && e.getMessage().contains("reads 1 to 2"),
          e.getMessage());
    }
  }

  private static java.util.List<Operation> opens(int n) {
    SubmitRequest.Builder r = SubmitRequest.newBuilder();
    for (int i = 0; i < n; i++) {
      r.addOperations(
          Operation.newBuilder()
              .setId("open-" + i)
              .setCreatedAtMillis(5_000)
              .setCreateAccount(CreateAccount.newBuilder().setAccount("acct-" + i)));
    }
    return r.build().getOperationsList();
  }
}
