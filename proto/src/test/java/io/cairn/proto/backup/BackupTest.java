package io.cairn.proto.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cairn.proto.Account;
import io.cairn.proto.BackupFile;
import io.cairn.proto.BackupManifest;
import io.cairn.proto.LedgerSnapshotHeader;
import io.cairn.proto.SnapshotHeader;
import io.cairn.proto.verify.StateHashing;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The backup file: what is written reads back, and every defect is refused with nothing left. */
class BackupTest {
  @TempDir Path dir;

  private static final List<Account> ACCOUNTS =
      List.of(
          Account.newBuilder().setId("alice").setBalance(90).setVersion(3).build(),
          Account.newBuilder().setId("bob").setBalance(10).setVersion(2).build());

  private Map<String, Path> files() throws IOException {
    Path snapshot = dir.resolve("snap");
    try (OutputStream out = Files.newOutputStream(snapshot)) {
      SnapshotHeader.newBuilder()
          .setFormatVersion(2)
          .setAppliedIndex(42)
          .setAppliedTerm(3)
          .setStateRoot(ByteString.copyFrom(StateHashing.rootOf(ACCOUNTS)))
          .build()
          .writeDelimitedTo(out);
      LedgerSnapshotHeader.newBuilder().setAccountCount(2).build().writeDelimitedTo(out);
      for (Account a : ACCOUNTS) {
        a.writeDelimitedTo(out);
      }
    }
    Path sst = dir.resolve("000001.sst");
    Files.write(sst, new byte[200_000]);
    Map<String, Path> files = new LinkedHashMap<>();
    files.put(Backup.SNAPSHOT, snapshot);
    files.put(Backup.CHECKPOINT_PREFIX + "000001.sst", sst);
    return files;
  }

  private byte[] backup() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BackupManifest header =
        BackupManifest.newBuilder()
            .setAppliedIndex(42)
            .setAppliedTerm(3)
            .setStateRoot(ByteString.copyFrom(StateHashing.rootOf(ACCOUNTS)))
            .setNodeId("n1")
            .build();
    Backup.write(out, header, files());
    return out.toByteArray();
  }

  @Test
  void aBackupUnpacksToTheFilesItWasWrittenFrom() throws IOException {
    Path target = dir.resolve("seed");
    BackupManifest m = Backup.unpack(new ByteArrayInputStream(backup()), target, n -> {});
    assertEquals(42, m.getAppliedIndex());
    assertEquals(List.of("snapshot", "checkpoint/000001.sst"), names(m));
    assertEquals(m, Backup.manifestOf(target));
    for (var e : files().entrySet()) {
      assertArrayEquals(
          Files.readAllBytes(e.getValue()), Files.readAllBytes(target.resolve(e.getKey())));
    }
    Backup.SnapshotCheck check = Backup.checkSnapshot(target.resolve(Backup.SNAPSHOT), 10);
    assertTrue(check.rootMatches());
    assertEquals(2, check.accounts());
    assertThrows(IOException.class, () -> Backup.checkSnapshot(target.resolve("snapshot"), 1));
  }

  @Test
  void everyFlippedByteTruncationOrTrailingByteIsRefusedAndLeavesNothing() throws IOException {
    byte[] good = backup();
    int[] places = {0, 3, good.length / 3, good.length / 2, good.length - 40, good.length - 1};
    for (int place : places) {
      byte[] bad = good.clone();
      bad[place] ^= 0x20;
      assertRefused(bad, "flipped byte at " + place);
    }
    assertRefused(java.util.Arrays.copyOf(good, good.length - 1), "truncated by one byte");
    assertRefused(java.util.Arrays.copyOf(good, good.length / 2), "truncated by half");
    assertRefused(new byte[0], "empty");
    byte[] longer = java.util.Arrays.copyOf(good, good.length + 1);
    assertRefused(longer, "a byte after the trailer");
  }

  @Test
  void namesThatLeaveTheFolderAreRefusedOnBothSides() throws IOException {
    Map<String, Path> files = files();
    files.put("checkpoint/../../escape", files.get(Backup.SNAPSHOT));
    BackupManifest header =
        BackupManifest.newBuilder().setStateRoot(ByteString.copyFrom(new byte[32])).build();
    assertThrows(IOException.class, () -> Backup.write(new ByteArrayOutputStream(), header, files));

    // A hand-made manifest naming a path outside the folder is refused before any file is made.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BackupManifest.newBuilder()
        .setFormatVersion(Backup.FORMAT_VERSION)
        .setStateRoot(ByteString.copyFrom(new byte[32]))
        .addFiles(BackupFile.newBuilder().setName(Backup.SNAPSHOT).setSize(0))
        .addFiles(BackupFile.newBuilder().setName("/etc/passwd").setSize(0))
        .build()
        .writeDelimitedTo(out);
    Path target = dir.resolve("seed");
    IOException e =
        assertThrows(
            IOException.class,
            () -> Backup.unpack(new ByteArrayInputStream(out.toByteArray()), target, n -> {}));
    assertTrue(e.getMessage().contains("/etc/passwd"), e.getMessage());
    assertFalse(Files.exists(target));
  }

  @Test
  void anUnknownFormatVersionIsRefusedNamingBoth() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BackupManifest.newBuilder().setFormatVersion(9).build().writeDelimitedTo(out);
    IOException e =
        assertThrows(
            IOException.class,
            () ->
                Backup.unpack(
                    new ByteArrayInputStream(out.toByteArray()), dir.resolve("seed"), n -> {}));
    assertTrue(e.getMessage().contains("9") && e.getMessage().contains("1"), e.getMessage());
  }

  private void assertRefused(byte[] bytes, String what) throws IOException {
    Path target = dir.resolve("seed");
    assertThrows(
        IOException.class,
        () -> Backup.unpack(new ByteArrayInputStream(bytes), target, n -> {}),
        what);
    assertFalse(Files.exists(target), what + ": left the target");
    assertFalse(Files.exists(dir.resolve("seed.partial")), what + ": left the partial folder");
    assertThrows(IOException.class, () -> Backup.verify(new ByteArrayInputStream(bytes), n -> {}));
  }

  private static List<String> names(BackupManifest m) {
    return m.getFilesList().stream().map(BackupFile::getName).toList();
  }
}
