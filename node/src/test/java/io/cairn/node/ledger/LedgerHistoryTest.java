package io.cairn.node.ledger;

import static io.cairn.node.ledger.LedgerTest.T0;
import static io.cairn.node.ledger.LedgerTest.balance;
import static io.cairn.node.ledger.LedgerTest.create;
import static io.cairn.node.ledger.LedgerTest.mint;
import static io.cairn.node.ledger.LedgerTest.one;
import static io.cairn.node.ledger.LedgerTest.transfer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.proto.DedupeRecord;
import io.cairn.proto.Operation;
import io.cairn.proto.ResultCode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 17, acceptance 3, with a short clock and a small table: behind the dedupe window, the
 * durable history answers. An id that left the window (by time or by count) is still a retry,
 * returning its first result; a floor raised by load refuses nothing; only an id the history does
 * not know and that was created before the window is EXPIRED.
 */
class LedgerHistoryTest {
  /** The store's contract: what entries before {@code beforeIndex} applied, written per entry. */
  static final class MapHistory implements History {
    final Map<String, DedupeRecord> byId = new HashMap<>();

    void record(Operation op, OpResult r) {
      if (!r.replayed() && r.appliedIndex() > 0) {
        byId.put(
            op.getId(),
            DedupeRecord.newBuilder()
                .setOperation(op)
                .setCode(r.code())
                .setAppliedIndex(r.appliedIndex())
                .build());
      }
    }

    @Override
    public DedupeRecord find(String id, long beforeIndex) {
      DedupeRecord r = byId.get(id);
      return r != null && r.getAppliedIndex() < beforeIndex ? r : null;
    }

    @Override
    public boolean complete() {
      return true;
    }
  }

  private final MapHistory history = new MapHistory();

  private OpResult apply(Ledger l, long now, long index, Operation op) {
    OpResult r = one(l, now, index, op);
    history.record(op, r);
    return r;
  }

  private Ledger ledger(int maxEntries) {
    Ledger l = new Ledger(new LedgerLimits(60_000, maxEntries, 5_000, 1_000));
    l.useHistory(history);
    apply(l, T0, 1, create("c1", "alice", T0));
    apply(l, T0, 2, create("c2", "bob", T0));
    apply(l, T0, 3, mint("m1", "alice", 1000, T0));
    return l;
  }

  @Test
  void aRetryLongAfterTheWindowReturnsTheFirstResultAndAppliesOnce() {
    Ledger l = ledger(1000);
    Operation t = transfer("t1", "alice", "bob", 100, T0);
    OpResult first = apply(l, T0, 10, t);
    long later = T0 + 20 * 60_000; // 20 minutes: twice the window, and evicted by time
    apply(l, later, 11, create("tick", "carol", later));
    assertFalse(l.operation("t1").isPresent(), "t1 should have left the window");
    OpResult retry = apply(l, later, 12, t);
    assertEquals(ResultCode.OK, retry.code());
    assertTrue(retry.replayed());
    assertEquals(first.appliedIndex(), retry.appliedIndex());
    assertEquals(900, balance(l, "alice"));
    Operation other = transfer("t1", "alice", "bob", 5, T0);
    assertEquals(ResultCode.DUPLICATE_ID, apply(l, later, 13, other).code());
    // Rebuilt with a fresh created_at: the id is still known, so it is still a retry.
    OpResult rebuilt = apply(l, later, 14, transfer("t1", "alice", "bob", 100, later));
    assertTrue(rebuilt.replayed(), "a rebuilt operation was applied again: " + rebuilt);
    assertEquals(900, balance(l, "alice"));
  }

  @Test
  void countEvictionNoLongerRefusesNewOperationsOrForgetsOldOnes() {
    Ledger l = ledger(3);
    Operation t = transfer("t1", "alice", "bob", 1, T0);
    apply(l, T0, 4, t);
    for (int i = 0; i < 10; i++) {
      apply(l, T0 + 1 + i, 5 + i, create("x" + i, "acct" + i, T0 + 1 + i));
    }
    assertTrue(l.totals().floorMillis() >= T0, "count eviction raised the floor");
    // Created at the floor: without the history this was EXPIRED.
    assertEquals(
        ResultCode.OK, apply(l, T0 + 20, 20, transfer("late", "alice", "bob", 1, T0)).code());
    OpResult retry = apply(l, T0 + 20, 21, t);
    assertTrue(retry.replayed(), "the evicted t1 is found in the history");
    assertEquals(998, balance(l, "alice"));
  }

  @Test
  void theByteBoundEvictsLikeTheCountBoundAndForgetsNothing() {
    long row = DedupeTable.bytesOf(create("x00", "acct00", T0), "");
    long limit = 10 * row;
    Ledger l =
        new Ledger(
            new LedgerLimits(
                60_000, 1_000, 5_000, 1_000, LedgerLimits.DEFAULT_MAX_ROLE_PRINCIPALS, limit));
    l.useHistory(history);
    Operation first = create("x00", "acct00", T0);
    apply(l, T0, 1, first);
    for (int i = 1; i < 50; i++) {
      String n = String.format("%02d", i);
      apply(l, T0 + i, 1 + i, create("x" + n, "acct" + n, T0 + i));
      assertTrue(l.dedupeBytes() <= limit, "dedupe bytes " + l.dedupeBytes() + " > " + limit);
    }
    assertEquals(10, l.totals().dedupeEntries());
    assertFalse(l.operation("x00").isPresent(), "x00 should have left the table");
    OpResult retry = apply(l, T0 + 60, 60, first);
    assertTrue(retry.replayed(), "the evicted x00 is found in the history: " + retry);
    assertEquals(50, l.totals().accountCount());
  }

  @Test
  void anUnknownIdCreatedBeforeTheWindowIsStillExpired() {
    Ledger l = ledger(1000);
    long now = T0 + 120_000;
    assertEquals(
        ResultCode.EXPIRED,
        apply(l, now, 10, transfer("never", "alice", "bob", 1, now - 60_001)).code());
    assertEquals(1000, balance(l, "alice"));
  }

  @Test
  void theHistoryIsAskedOnlyAboutEarlierEntries() {
    Ledger l = ledger(1);
    // Two operations in one entry with a table of one: the first must not be evicted by the second
    // (the history holds only earlier entries), or a retry in the same entry would apply twice.
    Operation a = transfer("a", "alice", "bob", 1, T0);
    Operation b = transfer("b", "alice", "bob", 1, T0);
    List<OpResult> r = l.apply(T0, 30, LedgerTest.ADMIN, List.of(a, b, a), false);
    assertEquals(ResultCode.OK, r.get(0).code());
    assertEquals(ResultCode.OK, r.get(1).code());
    assertTrue(r.get(2).replayed());
    assertEquals(998, balance(l, "alice"));
  }
}
