package io.cairn.node.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.proto.Burn;
import io.cairn.proto.CreateAccount;
import io.cairn.proto.Mint;
import io.cairn.proto.Operation;
import io.cairn.proto.ResultCode;
import io.cairn.proto.Transfer;
import java.util.List;
import org.junit.jupiter.api.Test;

class LedgerTest {
  static final long T0 = 1_700_000_000_000L;
  static final LedgerLimits LIMITS = new LedgerLimits(60_000, 1000, 5_000, 100);

  /** The bootstrap admin without a principal: may do everything, creates accounts without owner. */
  static final Caller ADMIN = new Caller("", true);

  static Operation create(String id, String account, long at) {
    return Operation.newBuilder()
        .setId(id)
        .setCreatedAtMillis(at)
        .setCreateAccount(CreateAccount.newBuilder().setAccount(account))
        .build();
  }

  static Operation mint(String id, String account, long amount, long at) {
    return Operation.newBuilder()
        .setId(id)
        .setCreatedAtMillis(at)
        .setMint(Mint.newBuilder().setAccount(account).setAmount(amount))
        .build();
  }

  static Operation burn(String id, String account, long amount, long at) {
    return Operation.newBuilder()
        .setId(id)
        .setCreatedAtMillis(at)
        .setBurn(Burn.newBuilder().setAccount(account).setAmount(amount))
        .build();
  }

  static Operation transfer(String id, String from, String to, long amount, long at) {
    return Operation.newBuilder()
        .setId(id)
        .setCreatedAtMillis(at)
        .setTransfer(Transfer.newBuilder().setFrom(from).setTo(to).setAmount(amount))
        .build();
  }

  static OpResult one(Ledger l, long now, long index, Operation op) {
    return l.apply(now, index, ADMIN, List.of(op), false).get(0);
  }

  static List<OpResult> atomic(Ledger l, long now, long index, Operation... ops) {
    return l.apply(now, index, ADMIN, List.of(ops), true);
  }

  static long balance(Ledger l, String id) {
    return l.account(id).orElseThrow().getBalance();
  }

  /** alice 1000, bob 0. */
  static Ledger funded() {
    Ledger l = new Ledger(LIMITS);
    one(l, T0, 1, create("c1", "alice", T0));
    one(l, T0, 2, create("c2", "bob", T0));
    one(l, T0, 3, mint("m1", "alice", 1000, T0));
    return l;
  }

  @Test
  void retryWithTheSameIdAndBodyReturnsTheFirstResultAndAppliesOnce() {
    Ledger l = funded();
    OpResult first = one(l, T0, 10, transfer("t1", "alice", "bob", 100, T0));
    OpResult again = one(l, T0 + 5, 11, transfer("t1", "alice", "bob", 100, T0 + 5));
    assertEquals(new OpResult("t1", ResultCode.OK, false, 10), first);
    assertEquals(new OpResult("t1", ResultCode.OK, true, 10), again);
    assertEquals(900, balance(l, "alice"));
    assertEquals(100, balance(l, "bob"));
  }

  @Test
  void reusedIdWithADifferentBodyIsDuplicateIdAndChangesNothing() {
    Ledger l = funded();
    one(l, T0, 10, transfer("t1", "alice", "bob", 100, T0));
    assertEquals(
        ResultCode.DUPLICATE_ID, one(l, T0, 11, transfer("t1", "alice", "bob", 101, T0)).code());
    assertEquals(900, balance(l, "alice"));
  }

  @Test
  void failuresReturnTheirCodeAndChangeNothing() {
    Ledger l = funded();
    var before = l.totals();
    assertEquals(
        ResultCode.INSUFFICIENT_FUNDS,
        one(l, T0, 10, transfer("a", "alice", "bob", 1001, T0)).code());
    assertEquals(
        ResultCode.NO_SUCH_ACCOUNT, one(l, T0, 11, transfer("b", "alice", "carol", 1, T0)).code());
    assertEquals(ResultCode.AMOUNT_OVERFLOW, one(l, T0, 12, mint("c", "bob", -1L, T0)).code());
    assertEquals(ResultCode.INSUFFICIENT_FUNDS, one(l, T0, 13, burn("d", "bob", 1, T0)).code());
    assertEquals(
        ResultCode.SAME_ACCOUNT, one(l, T0, 14, transfer("e", "alice", "alice", 1, T0)).code());
    assertEquals(
        ResultCode.INVALID_AMOUNT, one(l, T0, 15, transfer("f", "alice", "bob", 0, T0)).code());
    assertEquals(
        ResultCode.INVALID_ACCOUNT_ID, one(l, T0, 16, create("g", "no spaces", T0)).code());
    assertEquals(ResultCode.INVALID_OPERATION_ID, one(l, T0, 17, create("bad id", "x", T0)).code());
    assertEquals(ResultCode.ACCOUNT_EXISTS, one(l, T0, 18, create("h", "alice", T0)).code());
    assertEquals(
        ResultCode.INVALID_OPERATION,
        one(l, T0, 19, Operation.newBuilder().setId("i").setCreatedAtMillis(T0).build()).code());
    assertEquals(before.totalBalance(), l.totals().totalBalance());
    assertEquals(1000, balance(l, "alice"));
    assertEquals(1, l.account("bob").orElseThrow().getVersion());
    l.checkInvariants();
  }

  @Test
  void versionsStartAtOneAndGrowByOnePerChange() {
    Ledger l = funded();
    assertEquals(2, l.account("alice").orElseThrow().getVersion());
    one(l, T0, 10, transfer("t1", "alice", "bob", 1, T0));
    assertEquals(3, l.account("alice").orElseThrow().getVersion());
    assertEquals(2, l.account("bob").orElseThrow().getVersion());
  }

  @Test
  void compareAndSetTransferChecksTheSourceVersion() {
    Ledger l = funded();
    Operation stale =
        Operation.newBuilder()
            .setId("cas1")
            .setCreatedAtMillis(T0)
            .setTransfer(
                Transfer.newBuilder()
                    .setFrom("alice")
                    .setTo("bob")
                    .setAmount(1)
                    .setExpectedFromVersion(1))
            .build();
    assertEquals(ResultCode.VERSION_MISMATCH, one(l, T0, 10, stale).code());
    Operation fresh =
        stale.toBuilder()
            .setId("cas2")
            .setTransfer(stale.getTransfer().toBuilder().setExpectedFromVersion(2))
            .build();
    assertEquals(ResultCode.OK, one(l, T0, 11, fresh).code());
  }

  @Test
  void atomicBatchIsAllOrNothingAndItsRetryReturnsTheSameResults() {
    Ledger l = funded();
    List<OpResult> r =
        atomic(
            l,
            T0,
            10,
            transfer("x1", "alice", "bob", 10, T0),
            transfer("x2", "bob", "alice", 500, T0));
    assertEquals(ResultCode.ROLLED_BACK, r.get(0).code());
    assertEquals(ResultCode.INSUFFICIENT_FUNDS, r.get(1).code());
    assertEquals(1000, balance(l, "alice"));
    List<OpResult> again =
        atomic(
            l,
            T0,
            11,
            transfer("x1", "alice", "bob", 10, T0),
            transfer("x2", "bob", "alice", 500, T0));
    assertEquals(ResultCode.ROLLED_BACK, again.get(0).code());
    assertTrue(again.get(0).replayed());
    List<OpResult> ok =
        atomic(
            l,
            T0,
            12,
            transfer("y1", "alice", "bob", 10, T0),
            transfer("y2", "bob", "alice", 5, T0));
    assertEquals(ResultCode.OK, ok.get(0).code());
    assertEquals(ResultCode.OK, ok.get(1).code());
    assertEquals(995, balance(l, "alice"));
  }

  @Test
  void repeatedIdInsideAnAtomicBatchFailsTheBatch() {
    Ledger l = funded();
    List<OpResult> r =
        atomic(
            l, T0, 10, transfer("z", "alice", "bob", 1, T0), transfer("z", "alice", "bob", 1, T0));
    assertEquals(ResultCode.ROLLED_BACK, r.get(0).code());
    assertEquals(ResultCode.DUPLICATE_ID, r.get(1).code());
    assertEquals(1000, balance(l, "alice"));
  }

  @Test
  void operationsOlderThanTheWindowAreExpiredAndFutureOnesRefused() {
    Ledger l = funded();
    long now = T0 + 120_000;
    assertEquals(
        ResultCode.EXPIRED,
        one(l, now, 10, transfer("old", "alice", "bob", 1, now - 60_001)).code());
    assertEquals(
        ResultCode.OK, one(l, now, 11, transfer("edge", "alice", "bob", 1, now - 60_000)).code());
    assertEquals(
        ResultCode.TIMESTAMP_IN_FUTURE,
        one(l, now, 12, transfer("fut", "alice", "bob", 1, now + 5_001)).code());
    assertFalse(l.operation("old").isPresent(), "refusals are not recorded");
  }

  @Test
  void aRetryAfterTimeEvictionIsExpiredNeverReapplied() {
    Ledger l = funded();
    Operation t = transfer("t1", "alice", "bob", 1, T0);
    one(l, T0, 10, t);
    long later = T0 + 60_000 + 5_000 + 1;
    one(l, later, 11, create("tick", "carol", later));
    assertFalse(l.operation("t1").isPresent(), "record should be evicted by time");
    assertEquals(ResultCode.EXPIRED, one(l, later, 12, t).code());
    assertEquals(999, balance(l, "alice"));
  }

  @Test
  void countEvictionRaisesTheFloorSoTheEvictedRetryIsExpired() {
    Ledger l = new Ledger(new LedgerLimits(600_000, 3, 1_000, 100));
    one(l, T0, 1, create("c1", "a", T0));
    one(l, T0, 2, mint("m1", "a", 10, T0));
    one(l, T0, 3, create("c2", "b", T0));
    Operation t = transfer("t1", "a", "b", 1, T0);
    one(l, T0, 4, t); // evicts c1, floor = its created_at
    one(l, T0 + 10, 5, create("c3", "c", T0 + 1)); // evicts m1
    assertEquals(T0, l.totals().floorMillis());
    one(l, T0 + 20, 6, create("c4", "d", T0 + 2)); // evicts c2
    one(l, T0 + 30, 7, create("c5", "e", T0 + 3)); // evicts t1
    assertFalse(l.operation("t1").isPresent());
    assertEquals(ResultCode.EXPIRED, one(l, T0 + 40, 8, t).code());
    assertEquals(9, balance(l, "a"));
  }

  /**
   * Under sustained load the table is always full; new operations must still be accepted. The floor
   * used to be recorded_at + max skew, which ran ahead of the ledger's clock as soon as the table
   * held less than max-skew's worth of ids, so every new operation was EXPIRED.
   */
  @Test
  void aFullTableStillAcceptsNewOperations() {
    Ledger l = new Ledger(new LedgerLimits(600_000, 100, 60_000, 100_000));
    long now = T0;
    for (int i = 0; i < 1_000; i++) {
      now += 10; // 100 ops/s: the table of 100 spans 1 s, far less than the 60 s skew
      OpResult r = one(l, now, i + 1, create("c" + i, "acct" + i, now));
      assertEquals(ResultCode.OK, r.code(), "op " + i);
    }
    assertTrue(l.totals().floorMillis() < now);
  }

  @Test
  void ledgerTimeNeverRunsBackwards() {
    Ledger l = funded();
    one(l, T0 + 100_000, 10, create("c9", "dave", T0 + 100_000));
    one(l, T0, 11, create("c10", "erin", T0 + 100_000));
    assertEquals(T0 + 100_000, l.totals().nowMillis());
  }

  @Test
  void accountLimitIsAResultCode() {
    Ledger l = new Ledger(new LedgerLimits(60_000, 1000, 5_000, 2));
    one(l, T0, 1, create("c1", "a", T0));
    one(l, T0, 2, create("c2", "b", T0));
    assertEquals(ResultCode.ACCOUNT_LIMIT_REACHED, one(l, T0, 3, create("c3", "c", T0)).code());
  }

  @Test
  void accountsListInIdOrderAfterACursor() {
    Ledger l = funded();
    one(l, T0, 4, create("c3", "carol", T0));
    assertEquals(
        List.of("bob", "carol"),
        l.accountsAfter("alice", 10).stream().map(a -> a.getId()).toList());
    assertEquals(List.of("alice"), l.accountsAfter("", 1).stream().map(a -> a.getId()).toList());
  }
}
