package io.cairn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cairn.proto.Account;
import io.cairn.proto.BackupManifest;
import io.cairn.proto.LedgerSnapshotHeader;
import io.cairn.proto.SnapshotHeader;
import io.cairn.proto.backup.Backup;
import io.cairn.proto.verify.StateHashing;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairnctl snapshot restore}, offline: a good backup seeds an empty data dir; a backup whose
 * accounts do not give its root, or a data dir that holds anything, is refused (exit 6) and nothing
 * is written.
 */
class SnapshotCmdsTest {
  @TempDir Path dir;

  private static final List<Account> ACCOUNTS =
      List.of(Account.newBuilder().setId("alice").setBalance(7).setVersion(2).build());

  /** A backup whose snapshot holds {@link #ACCOUNTS} and records {@code root}. */
  private Path backup(String name, byte[] root) throws IOException {
    Path snapshot = dir.resolve(name + ".snapshot");
    try (OutputStream out = Files.newOutputStream(snapshot)) {
      SnapshotHeader.newBuilder()
          .setFormatVersion(2)
          .setAppliedIndex(9)
          .setAppliedTerm(2)
          .setStateRoot(ByteString.copyFrom(root))
          .build()
          .writeDelimitedTo(out);
      LedgerSnapshotHeader.newBuilder().setAccountCount(1).build().writeDelimitedTo(out);
      ACCOUNTS.get(0).writeDelimitedTo(out);
    }
    Path file = dir.resolve(name);
    try (OutputStream out = Files.newOutputStream(file)) {
      Backup.write(
          out,
          BackupManifest.newBuilder()
              .setAppliedIndex(9)
              .setAppliedTerm(2)
              .setStateRoot(ByteString.copyFrom(root))
              .build(),
          Map.of(Backup.SNAPSHOT, snapshot));
    }
    return file;
  }

  @Test
  void aGoodBackupSeedsAnEmptyDataDirAndNothingElse() throws IOException {
    Path good = backup("good", StateHashing.rootOf(ACCOUNTS));
    Path data = dir.resolve("n1");
    CairnctlTest.Run r =
        CairnctlTest.run("snapshot", "restore", good.toString(), "--data-dir", data.toString());
    assertEquals(Cairnctl.OK, r.code(), r.err());
    assertTrue(r.out().contains("index 9") && r.out().contains("1 accounts"), r.out());
    assertTrue(Files.isRegularFile(data.resolve("restore").resolve(Backup.SNAPSHOT)));

    CairnctlTest.Run again =
        CairnctlTest.run("snapshot", "restore", good.toString(), "--data-dir", data.toString());
    assertEquals(SnapshotCmds.BAD_BACKUP, again.code());
    assertTrue(again.err().contains("is not empty"), again.err());
  }

  @Test
  void aBackupWhoseAccountsDoNotGiveItsRootIsRefused() throws IOException {
    Path lying = backup("lying", StateHashing.rootOf(List.of()));
    Path data = dir.resolve("n2");
    CairnctlTest.Run r =
        CairnctlTest.run("snapshot", "restore", lying.toString(), "--data-dir", data.toString());
    assertEquals(SnapshotCmds.BAD_BACKUP, r.code());
    assertTrue(r.err().contains("root recomputed"), r.err());
    assertFalse(Files.exists(data.resolve("restore")), "a refused backup left a seed");
  }
}
