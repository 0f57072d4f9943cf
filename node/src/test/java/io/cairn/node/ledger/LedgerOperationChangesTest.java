package io.cairn.node.ledger;

import static io.cairn.node.ledger.LedgerTest.T0;
import static io.cairn.node.ledger.LedgerTest.atomic;
import static io.cairn.node.ledger.LedgerTest.funded;
import static io.cairn.node.ledger.LedgerTest.transfer;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cairn.proto.Account;
import io.cairn.proto.SubmitRequest;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The per-operation post-states that Watch streams: one list per operation, aligned. */
class LedgerOperationChangesTest {
  static Account acct(String id, long balance, long version) {
    return Account.newBuilder().setId(id).setBalance(balance).setVersion(version).build();
  }

  @Test
  void eachOperationReportsTheStateRightAfterIt() {
    Ledger l = funded(); // alice 1000 (v2), bob 0 (v1)
    l.apply(
        T0,
        10,
        LedgerTest.ADMIN,
        SubmitRequest.newBuilder()
            .addOperations(transfer("t1", "alice", "bob", 100, T0))
            .addOperations(transfer("t2", "alice", "bob", 5000, T0)) // insufficient funds
            .addOperations(transfer("t3", "bob", "alice", 40, T0))
            .build()
            .getOperationsList(),
        false);
    assertEquals(
        List.of(
            List.of(acct("alice", 900, 3), acct("bob", 100, 2)),
            List.of(),
            List.of(acct("alice", 940, 4), acct("bob", 60, 3))),
        l.lastOperationChanges());
  }

  @Test
  void aReplayChangesNothing() {
    Ledger l = funded();
    atomic(l, T0, 10, transfer("t1", "alice", "bob", 100, T0));
    atomic(l, T0, 11, transfer("t1", "alice", "bob", 100, T0));
    assertEquals(List.of(List.of()), l.lastOperationChanges());
  }

  @Test
  void anAtomicBatchReportsStagedStatesOnlyWhenItCommits() {
    Ledger l = funded();
    atomic(
        l, T0, 10, transfer("a1", "alice", "bob", 100, T0), transfer("a2", "bob", "alice", 30, T0));
    assertEquals(
        List.of(
            List.of(acct("alice", 900, 3), acct("bob", 100, 2)),
            List.of(acct("alice", 930, 4), acct("bob", 70, 3))),
        l.lastOperationChanges());
    atomic(
        l,
        T0,
        11,
        transfer("b1", "alice", "bob", 100, T0),
        transfer("b2", "bob", "alice", 1_000_000, T0));
    assertEquals(List.of(List.of(), List.of()), l.lastOperationChanges());
  }
}
