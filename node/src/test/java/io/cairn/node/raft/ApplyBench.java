package io.cairn.node.raft;

import io.cairn.node.ledger.LedgerLimits;
import io.cairn.node.metrics.NodeMetrics;
import io.cairn.proto.LogEntry;
import io.cairn.proto.Operation;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.Transfer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * The state machine's CPU cost per transfer (a main, not a test): builds log entries the way the
 * leader's batcher does (requests of single transfers, many requests per entry), then times {@link
 * LedgerStateMachine#applyTransaction} on one thread, as a follower runs it. Every node of a
 * cluster pays this for every transfer, so on a 2-core machine running three nodes it bounds the
 * cluster's throughput. Prints the median and p90 of microseconds per transfer over rounds, for the
 * node's default set-up and with Watch and Merkle switched off, to show what each costs.
 *
 * <p>Run with scripts/bench-apply [accounts] [transfers-per-entry].
 */
public final class ApplyBench {
  private ApplyBench() {}

  public static void main(String[] args) {
    int accounts = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int perEntry = args.length > 1 ? Integer.parseInt(args[1]) : 512;
    System.out.printf(
        "apply cost per transfer: %,d accounts, %d single-transfer requests per log entry,"
            + " one thread%n",
        accounts, perEntry);
    for (String mode : new String[] {"default", "no-watch", "no-watch-no-merkle"}) {
      run(mode, accounts, perEntry);
    }
  }

  private static void run(String mode, int accounts, int perEntry) {
    boolean watch = mode.equals("default");
    boolean merkle = !mode.endsWith("no-merkle");
    LedgerStateMachine sm =
        new LedgerStateMachine(
            "bench",
            new LedgerLimits(600_000, 500_000, 30_000, 10_000_000),
            10_000,
            merkle,
            1000,
            new NodeMetrics("bench"),
            watch ? new WatchWindow(4096, 64L << 20) : WatchWindow.disabled(),
            new io.cairn.node.store.HistoryStore.Settings(32L << 20, 16L << 20));
    Path store;
    try {
      store = Files.createTempDirectory("apply-bench-history");
      sm.openHistory(store);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    long index = 1;
    long now = 1_000_000_000L;
    // Set-up: open and fund the accounts.
    for (int from = 0; from < accounts; from += 500) {
      LogEntry.Builder e = LogEntry.newBuilder().setLeaderTimeMillis(now);
      SubmitRequest.Builder r = SubmitRequest.newBuilder();
      for (int i = from; i < Math.min(accounts, from + 500); i++) {
        r.addOperations(
            Operation.newBuilder()
                .setId("open-" + i)
                .setCreatedAtMillis(now)
                .setCreateAccount(io.cairn.proto.CreateAccount.newBuilder().setAccount(name(i))));
        r.addOperations(
            Operation.newBuilder()
                .setId("fund-" + i)
                .setCreatedAtMillis(now)
                .setMint(io.cairn.proto.Mint.newBuilder().setAccount(name(i)).setAmount(1L << 40)));
      }
      apply(sm, index++, e.addRequests(r).build());
    }
    SplittableRandom rnd = new SplittableRandom(7);
    int rounds = 30;
    // 20,000 transfers a round, 40 rounds: 800,000 per mode. With the history store every
    // transfer is written to RocksDB and every new id looked up there, so 200,000 a round (8 M
    // per mode) ran for over 12 minutes.
    int entriesPerRound = Math.max(1, 20_000 / perEntry);
    double[] micros = new double[rounds];
    long op = 0;
    for (int round = 0; round < rounds + 10; round++) {
      // Entries are built before the clock starts: only apply is timed.
      LogEntryProto[] entries = new LogEntryProto[entriesPerRound];
      for (int k = 0; k < entriesPerRound; k++) {
        now += 1;
        LogEntry.Builder e = LogEntry.newBuilder().setLeaderTimeMillis(now);
        for (int i = 0; i < perEntry; i++) {
          int a = rnd.nextInt(accounts);
          int b = (a + 1 + rnd.nextInt(accounts - 1)) % accounts;
          e.addRequests(
              SubmitRequest.newBuilder()
                  .addOperations(
                      Operation.newBuilder()
                          .setId("bench-op-" + op++)
                          .setCreatedAtMillis(now)
                          .setTransfer(
                              Transfer.newBuilder().setFrom(name(a)).setTo(name(b)).setAmount(1))));
        }
        entries[k] = entry(index++, e.build());
      }
      long started = System.nanoTime();
      for (LogEntryProto entry : entries) {
        sm.applyTransaction(follower(sm, entry)).join();
      }
      long elapsed = System.nanoTime() - started;
      if (round % 10 == 9) {
        System.err.printf("  %s: round %d of %d%n", mode, round + 1, rounds + 10);
      }
      if (round >= 10) { // the first rounds warm the JIT
        micros[round - 10] = elapsed / 1e3 / ((double) entriesPerRound * perEntry);
      }
    }
    Arrays.sort(micros);
    System.out.printf(
        "  %-20s median %6.2f us/transfer  p90 %6.2f  (%d rounds of %,d transfers)  => %,.0f"
            + " transfers/s per core%n",
        mode,
        micros[rounds / 2],
        micros[rounds * 9 / 10],
        rounds,
        entriesPerRound * perEntry,
        1e6 / micros[rounds / 2]);
    try {
      sm.close();
      io.cairn.node.store.HistoryStore.deleteTreeIfExists(store);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String name(int i) {
    return "bench-acct-" + i;
  }

  private static void apply(LedgerStateMachine sm, long index, LogEntry e) {
    sm.applyTransaction(follower(sm, entry(index, e))).join();
  }

  private static LogEntryProto entry(long index, LogEntry e) {
    return LogEntryProto.newBuilder()
        .setIndex(index)
        .setTerm(1)
        .setStateMachineLogEntry(
            StateMachineLogEntryProto.newBuilder().setLogData(ByteString.copyFrom(e.toByteArray())))
        .build();
  }

  private static TransactionContext follower(LedgerStateMachine sm, LogEntryProto entry) {
    return TransactionContext.newBuilder()
        .setStateMachine(sm)
        .setServerRole(RaftPeerRole.FOLLOWER)
        .setLogEntry(entry)
        .build();
  }
}
