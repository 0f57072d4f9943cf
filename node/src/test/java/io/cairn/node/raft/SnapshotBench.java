package io.cairn.node.raft;

import io.cairn.node.ledger.Caller;
import io.cairn.node.ledger.Ledger;
import io.cairn.node.ledger.LedgerLimits;
import io.cairn.proto.CreateAccount;
import io.cairn.proto.Mint;
import io.cairn.proto.Operation;
import io.cairn.proto.SnapshotHeader;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.Transfer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * How long a snapshot takes (a main, not a test): a ledger with ACCOUNTS accounts and a full dedupe
 * table of DEDUPE remembered operations (the default config keeps 500,000) is copied (what the
 * apply thread waits for) and the copy written with fsync to a temporary file (what the background
 * writer does), five times; prints each time, the medians, and the file size. The snapshot is what
 * a follower behind the leader's purged log is sent, and what a node writes every
 * raft.snapshot.threshold.entries entries.
 *
 * <p>Run with scripts/bench-snapshot [ACCOUNTS] [DEDUPE].
 */
public final class SnapshotBench {
  private static final Caller ADMIN = new Caller("", true);

  private SnapshotBench() {}

  public static void main(String[] args) throws Exception {
    int accounts = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int dedupe = args.length > 1 ? Integer.parseInt(args[1]) : 500_000;
    Ledger ledger = new Ledger(new LedgerLimits(600_000, dedupe, 30_000, 10_000_000));
    // Ledger time advances 2 s per set-up request and 1 s per transfer request, so the 10-minute
    // dedupe window never holds more than the table (a full table refuses new ids) and the table
    // ends holding the DEDUPE transfers.
    long now = 1_000_000_000L;
    long index = 1;
    SubmitRequest.Builder open = SubmitRequest.newBuilder();
    for (int i = 0; i < accounts; i++) {
      open.addOperations(
          Operation.newBuilder()
              .setId("open-" + i)
              .setCreatedAtMillis(now)
              .setCreateAccount(CreateAccount.newBuilder().setAccount(name(i))));
      open.addOperations(
          Operation.newBuilder()
              .setId("fund-" + i)
              .setCreatedAtMillis(now)
              .setMint(Mint.newBuilder().setAccount(name(i)).setAmount(1L << 40)));
      if (open.getOperationsCount() >= 1000) {
        ledger.apply(now, index++, ADMIN, open.build().getOperationsList(), false);
        open.clear();
        now += 2000;
      }
    }
    if (open.getOperationsCount() > 0) {
      ledger.apply(now, index++, ADMIN, open.build().getOperationsList(), false);
    }
    now += 600_000;
    // Transfers until the dedupe table is full: ids shaped like the client's (22 characters).
    for (int t = 0; t < dedupe; t += 1000) {
      SubmitRequest.Builder r = SubmitRequest.newBuilder();
      for (int i = t; i < Math.min(dedupe, t + 1000); i++) {
        r.addOperations(
            Operation.newBuilder()
                .setId(String.format("bench-%016d", i))
                .setCreatedAtMillis(now)
                .setTransfer(
                    Transfer.newBuilder()
                        .setFrom(name(i % accounts))
                        .setTo(name((i + 1) % accounts))
                        .setAmount(1)));
      }
      ledger.apply(now, index++, ADMIN, r.build().getOperationsList(), false);
      now += 1000;
    }
    System.out.printf(
        "snapshot write (fsync on): %,d accounts, %,d remembered operations%n",
        ledger.totals().accountCount(), ledger.totals().dedupeEntries());
    Path dir = Files.createTempDirectory("cairn-snapshot-bench");
    Path file = dir.resolve("snapshot");
    SnapshotHeader header =
        SnapshotHeader.newBuilder()
            .setFormatVersion(SnapshotFile.FORMAT_VERSION)
            .setAppliedIndex(index)
            .setAppliedTerm(1)
            .build();
    double[] copyMs = new double[5];
    double[] ms = new double[5];
    try {
      for (int round = 0; round < ms.length; round++) {
        long started = System.nanoTime();
        Ledger.SnapshotCopy copy = ledger.snapshotCopy();
        long copied = System.nanoTime();
        SnapshotFile.write(file, header, copy);
        copyMs[round] = (copied - started) / 1e6;
        ms[round] = (System.nanoTime() - copied) / 1e6;
        System.out.printf(
            "  round %d: copy %.1f ms (on the apply thread), write %.0f ms (background)%n",
            round + 1, copyMs[round], ms[round]);
      }
      Arrays.sort(copyMs);
      Arrays.sort(ms);
      System.out.printf(
          "median: copy %.1f ms, write %.0f ms for %,d bytes (%.0f MB/s)%n",
          copyMs[copyMs.length / 2],
          ms[ms.length / 2],
          Files.size(file),
          Files.size(file) / 1e3 / ms[ms.length / 2]);
    } finally {
      Files.deleteIfExists(file);
      Files.deleteIfExists(dir);
    }
  }

  private static String name(int i) {
    return String.format("acct-%06d", i);
  }
}
