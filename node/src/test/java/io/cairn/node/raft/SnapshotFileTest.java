package io.cairn.node.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
    ledger.apply(5_000, 1, r.build().getOperationsList(), false);
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
}
