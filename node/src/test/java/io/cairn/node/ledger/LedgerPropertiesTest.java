package io.cairn.node.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.proto.Operation;
import io.cairn.proto.ResultCode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random request sequences over a small account pool with retries, reused ids, huge amounts, atomic
 * batches, clock jumps and tiny dedupe limits (so eviction happens all the time).
 */
class LedgerPropertiesTest {
  static final String[] ACCOUNTS = {"a0", "a1", "a2", "a3", "a4"};
  static final long T0 = 1_700_000_000_000L;

  /** One step: a request (1-4 ops) applied at a time offset. */
  record Step(long timeDelta, boolean atomic, List<Operation> ops) {}

  @Provide
  Arbitrary<List<Step>> steps() {
    Arbitrary<String> account = Arbitraries.of(ACCOUNTS);
    Arbitrary<String> id = Arbitraries.integers().between(0, 40).map(i -> "op" + i);
    Arbitrary<Long> amount =
        Arbitraries.oneOf(
            Arbitraries.longs().between(1, 50),
            Arbitraries.of(Long.MAX_VALUE, -1L, -2L, Long.MIN_VALUE, 1L << 62));
    Arbitrary<Long> createdSkew = Arbitraries.longs().between(-3_000, 1_500);
    Arbitrary<Operation> op =
        Combinators.combine(
                Arbitraries.integers().between(0, 9), id, account, account, amount, createdSkew)
            .as(
                (kind, opId, x, y, amt, skew) -> {
                  Operation.Builder b = Operation.newBuilder().setId(opId).setCreatedAtMillis(skew);
                  switch (kind) {
                    case 0, 1 -> b.getCreateAccountBuilder().setAccount(x);
                    case 2, 3 -> b.getMintBuilder().setAccount(x).setAmount(amt);
                    case 4 -> b.getBurnBuilder().setAccount(x).setAmount(amt);
                    default -> b.getTransferBuilder().setFrom(x).setTo(y).setAmount(amt);
                  }
                  return b.build();
                });
    Arbitrary<Step> step =
        Combinators.combine(
                Arbitraries.longs().between(-500, 2_500),
                Arbitraries.integers().between(0, 4).map(i -> i == 0),
                op.list().ofMinSize(1).ofMaxSize(4))
            .as(Step::new);
    return step.list().ofMinSize(1).ofMaxSize(60);
  }

  static final LedgerLimits TINY = new LedgerLimits(4_000, 12, 1_000, 4);

  /** Runs the steps; created_at in the generated ops is an offset from the step's clock. */
  static List<List<OpResult>> run(Ledger l, List<Step> steps, List<Operation> appliedOut) {
    List<List<OpResult>> all = new ArrayList<>();
    long clock = T0;
    long index = 0;
    for (Step s : steps) {
      clock += s.timeDelta();
      List<Operation> ops = new ArrayList<>();
      for (Operation o : s.ops()) {
        ops.add(o.toBuilder().setCreatedAtMillis(clock + o.getCreatedAtMillis()).build());
      }
      List<OpResult> r = l.apply(clock, ++index, ops, s.atomic());
      for (int i = 0; i < r.size(); i++) {
        if (r.get(i).code() == ResultCode.OK && !r.get(i).replayed()) {
          appliedOut.add(ops.get(i));
        }
      }
      all.add(r);
      l.checkInvariants();
    }
    return all;
  }

  /**
   * The exactly-once promise: an operation resent as is (same id, same created_at, as the client
   * library does on retry) is applied at most once, however late it comes. The same id re-issued
   * with a later created_at after its record was evicted is a new operation (docs/internals.md).
   */
  @Property(tries = 300)
  void conservationHoldsAndNoResentOperationIsAppliedTwice(@ForAll("steps") List<Step> steps) {
    Ledger l = new Ledger(TINY);
    List<Operation> applied = new ArrayList<>();
    run(l, steps, applied);
    Map<String, Integer> times = new HashMap<>();
    for (Operation o : applied) {
      times.merge(o.getId() + "@" + o.getCreatedAtMillis(), 1, Integer::sum);
    }
    times.forEach((op, n) -> assertEquals(1, n, "operation " + op + " applied " + n + " times"));
    var t = l.totals();
    assertEquals(t.totalMinted() - t.totalBurned(), t.totalBalance());
  }

  @Property(tries = 300)
  void replayingExactlyTheAppliedOperationsReproducesEveryBalance(
      @ForAll("steps") List<Step> steps) {
    Ledger l = new Ledger(TINY);
    List<Operation> applied = new ArrayList<>();
    run(l, steps, applied);
    // An independent, naive model: apply each reported-applied op with plain arithmetic.
    Map<String, Long> balance = new HashMap<>();
    Map<String, Long> version = new HashMap<>();
    for (Operation o : applied) {
      switch (o.getKindCase()) {
        case CREATE_ACCOUNT -> {
          balance.put(o.getCreateAccount().getAccount(), 0L);
          version.put(o.getCreateAccount().getAccount(), 1L);
        }
        case MINT -> {
          balance.merge(o.getMint().getAccount(), o.getMint().getAmount(), Long::sum);
          version.merge(o.getMint().getAccount(), 1L, Long::sum);
        }
        case BURN -> {
          balance.merge(o.getBurn().getAccount(), -o.getBurn().getAmount(), Long::sum);
          version.merge(o.getBurn().getAccount(), 1L, Long::sum);
        }
        case TRANSFER -> {
          var t = o.getTransfer();
          balance.merge(t.getFrom(), -t.getAmount(), Long::sum);
          balance.merge(t.getTo(), t.getAmount(), Long::sum);
          version.merge(t.getFrom(), 1L, Long::sum);
          version.merge(t.getTo(), 1L, Long::sum);
        }
        default -> throw new AssertionError("applied an operation without a kind");
      }
    }
    for (String a : ACCOUNTS) {
      var acct = l.account(a);
      assertEquals(balance.containsKey(a), acct.isPresent(), a);
      if (acct.isPresent()) {
        assertEquals(balance.get(a), acct.get().getBalance(), "balance of " + a);
        assertEquals(version.get(a), acct.get().getVersion(), "version of " + a);
      }
    }
  }

  @Property(tries = 200)
  void theSameRequestsGiveTheSameResultsAndSnapshotBytes(@ForAll("steps") List<Step> steps)
      throws IOException {
    Ledger a = new Ledger(TINY);
    Ledger b = new Ledger(TINY);
    assertEquals(run(a, steps, new ArrayList<>()), run(b, steps, new ArrayList<>()));
    assertArrayEquals(snapshot(a), snapshot(b));
  }

  @Property(tries = 200)
  void aRestoredSnapshotIsIdenticalAndBehavesIdentically(@ForAll("steps") List<Step> steps)
      throws IOException {
    int half = steps.size() / 2;
    Ledger original = new Ledger(TINY);
    run(original, steps.subList(0, half), new ArrayList<>());
    byte[] bytes = snapshot(original);
    Ledger restored =
        io.cairn.node.raft.LedgerSnapshotCodec.read(new ByteArrayInputStream(bytes), TINY);
    assertArrayEquals(bytes, snapshot(restored));
    List<Step> rest = steps.subList(half, steps.size());
    assertEquals(run(original, rest, new ArrayList<>()), run(restored, rest, new ArrayList<>()));
  }

  @Property(tries = 100)
  void aCorruptedSnapshotIsRefused(@ForAll("steps") List<Step> steps) throws IOException {
    Ledger l = new Ledger(TINY);
    run(l, steps, new ArrayList<>());
    byte[] bytes = snapshot(l);
    byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length - 1);
    assertThrows(
        IOException.class,
        () ->
            io.cairn.node.raft.LedgerSnapshotCodec.read(new ByteArrayInputStream(truncated), TINY));
  }

  /**
   * The dedupe records are encoded by hand (no decode and re-encode of each stored operation):
   * parsing the snapshot with protobuf and writing it back with protobuf gives the same bytes.
   */
  @Property(tries = 100)
  void aSnapshotIsExactlyWhatProtobufWouldWrite(@ForAll("steps") List<Step> steps)
      throws IOException {
    Ledger l = new Ledger(TINY);
    run(l, steps, new ArrayList<>());
    byte[] bytes = snapshot(l);
    ByteArrayInputStream in = new ByteArrayInputStream(bytes);
    ByteArrayOutputStream again = new ByteArrayOutputStream();
    io.cairn.proto.LedgerSnapshotHeader h =
        io.cairn.proto.LedgerSnapshotHeader.parseDelimitedFrom(in);
    h.writeDelimitedTo(again);
    for (long i = 0; i < h.getAccountCount(); i++) {
      io.cairn.proto.Account.parseDelimitedFrom(in).writeDelimitedTo(again);
    }
    for (long i = 0; i < h.getDedupeCount(); i++) {
      io.cairn.proto.DedupeRecord.parseDelimitedFrom(in).writeDelimitedTo(again);
    }
    assertEquals(-1, in.read(), "bytes after the last record");
    org.junit.jupiter.api.Assertions.assertArrayEquals(again.toByteArray(), bytes);
  }

  /** Snapshots are written from a copy while the ledger goes on: later entries must not leak in. */
  @Property(tries = 100)
  void aSnapshotCopyIsUnchangedByLaterEntries(
      @ForAll("steps") List<Step> before, @ForAll("steps") List<Step> after) throws IOException {
    Ledger l = new Ledger(TINY);
    run(l, before, new ArrayList<>());
    byte[] expected = snapshot(l);
    Ledger.SnapshotCopy copy = l.snapshotCopy();
    run(l, after, new ArrayList<>());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    io.cairn.node.raft.LedgerSnapshotCodec.write(copy, out);
    org.junit.jupiter.api.Assertions.assertArrayEquals(expected, out.toByteArray());
  }

  static byte[] snapshot(Ledger l) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    io.cairn.node.raft.LedgerSnapshotCodec.write(l.snapshotCopy(), out);
    return out.toByteArray();
  }

  @Property(tries = 50)
  void balancesNeverExceedTheTotalSupply(@ForAll("steps") List<Step> steps) {
    Ledger l = new Ledger(TINY);
    run(l, steps, new ArrayList<>());
    long supply = l.totals().totalBalance();
    for (String a : ACCOUNTS) {
      l.account(a)
          .ifPresent(acct -> assertTrue(Long.compareUnsigned(acct.getBalance(), supply) <= 0, a));
    }
  }
}
