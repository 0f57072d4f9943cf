package io.cairn.chaos;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.chaos.Checkers.Final;
import io.cairn.chaos.Checkers.Lookup;
import io.cairn.chaos.Checkers.NodeState;
import io.cairn.chaos.History.Op;
import io.cairn.chaos.History.Outcome;
import io.cairn.proto.ResultCode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The checkers on small synthetic histories: valid ones pass, each planted anomaly is caught. */
class CheckersTest {
  static final Map<String, Long> INITIAL = Map.of("a", 100L, "b", 100L);

  static Op transfer(String id, long invoke, long complete, Outcome o, long index) {
    return new Op(
        0,
        "transfer",
        id,
        "a",
        "b",
        10,
        invoke,
        complete,
        o,
        o == Outcome.OK ? ResultCode.OK : null,
        index,
        null,
        "n1",
        null);
  }

  static Op read(long invoke, long complete, long index, long a, long b) {
    return new Op(
        1,
        "read",
        null,
        null,
        null,
        0,
        invoke,
        complete,
        Outcome.OK,
        null,
        index,
        Map.of("a", a, "b", b),
        "n1",
        null);
  }

  static Final fin(Map<String, Long> balances, Map<String, Lookup> lookups, List<NodeState> nodes) {
    return new Final(INITIAL, 1, balances, lookups, nodes);
  }

  static final List<NodeState> AGREE =
      List.of(new NodeState("n1", 9, "r"), new NodeState("n2", 9, "r"));

  /** t1 applied at 5, read at 5 sees it; t2 info, applied at 7; final read state. */
  static List<Op> validHistory() {
    return List.of(
        transfer("t1", 10, 20, Outcome.OK, 5),
        read(30, 40, 5, 90, 110),
        transfer("t2", 50, 60, Outcome.INFO, 0),
        read(70, 80, 7, 80, 120));
  }

  static Map<String, Lookup> validLookups() {
    Map<String, Lookup> l = new HashMap<>();
    l.put("t1", new Lookup(true, ResultCode.OK, 5));
    l.put("t2", new Lookup(true, ResultCode.OK, 7));
    return l;
  }

  static boolean allValid(List<Op> h, Final f) {
    return Checkers.all(h, f).stream().allMatch(Checkers.Verdict::valid);
  }

  @Test
  void aValidHistoryPasses() {
    assertTrue(
        allValid(validHistory(), fin(Map.of("a", 80L, "b", 120L), validLookups(), AGREE)),
        Checkers.all(validHistory(), fin(Map.of("a", 80L, "b", 120L), validLookups(), AGREE))
            .toString());
  }

  static io.cairn.proto.StatementLine line(
      String id, long index, boolean transfer, long credit, long debit, long after) {
    io.cairn.proto.Operation.Builder op = io.cairn.proto.Operation.newBuilder().setId(id);
    if (transfer) {
      op.setTransfer(io.cairn.proto.Transfer.newBuilder().setFrom("a").setTo("b").setAmount(10));
    } else {
      op.setMint(io.cairn.proto.Mint.newBuilder().setAmount(credit));
    }
    return io.cairn.proto.StatementLine.newBuilder()
        .setOperation(op)
        .setAppliedIndex(index)
        .setCredit(credit)
        .setDebit(debit)
        .setBalanceAfter(after)
        .build();
  }

  /** a and b minted 100 at 1, then t1 (5) and t2 (7) move 10 each from a to b. */
  static Map<String, List<io.cairn.proto.StatementLine>> validStatements() {
    return Map.of(
        "a",
        List.of(
            line("ma", 1, false, 100, 0, 100),
            line("t1", 5, true, 0, 10, 90),
            line("t2", 7, true, 0, 10, 80)),
        "b",
        List.of(
            line("mb", 1, false, 100, 0, 100),
            line("t1", 5, true, 10, 0, 110),
            line("t2", 7, true, 10, 0, 120)));
  }

  @Test
  void statementsThatChainToTheFinalBalancesPassAndADoubledLineIsCaught() {
    Map<String, Long> balances = Map.of("a", 80L, "b", 120L);
    Final ok = new Final(INITIAL, 1, balances, validLookups(), AGREE, validStatements());
    assertTrue(Checkers.statements(ok).valid(), Checkers.statements(ok).toString());
    Map<String, List<io.cairn.proto.StatementLine>> doubled = new HashMap<>(validStatements());
    doubled.put(
        "a",
        List.of(
            line("ma", 1, false, 100, 0, 100),
            line("t1", 5, true, 0, 10, 90),
            line("t1", 5, true, 0, 10, 80),
            line("t2", 7, true, 0, 10, 70)));
    Final bad = new Final(INITIAL, 1, balances, validLookups(), AGREE, doubled);
    assertFalse(Checkers.statements(bad).valid());
    Map<String, List<io.cairn.proto.StatementLine>> broken = new HashMap<>(validStatements());
    broken.put(
        "b",
        List.of(
            line("mb", 1, false, 100, 0, 100),
            line("t1", 5, true, 10, 0, 115),
            line("t2", 7, true, 10, 0, 120)));
    assertFalse(
        Checkers.statements(new Final(INITIAL, 1, balances, validLookups(), AGREE, broken))
            .valid());
  }

  @Test
  void aLostAcknowledgedTransferIsCaught() {
    Map<String, Lookup> l = validLookups();
    l.put("t1", new Lookup(false, null, 0));
    assertFalse(
        Checkers.exactlyOnce(validHistory(), fin(Map.of("a", 90L, "b", 110L), l, AGREE)).valid());
  }

  @Test
  void aDoubleApplyShowsInTheFinalBalances() {
    assertFalse(
        Checkers.exactlyOnce(
                validHistory(), fin(Map.of("a", 70L, "b", 130L), validLookups(), AGREE))
            .valid());
  }

  @Test
  void aFailedTransferThatWasAppliedIsCaught() {
    List<Op> h = List.of(transfer("t1", 10, 20, Outcome.FAIL, 0));
    Map<String, Lookup> l = Map.of("t1", new Lookup(true, ResultCode.OK, 5));
    assertFalse(Checkers.exactlyOnce(h, fin(Map.of("a", 90L, "b", 110L), l, AGREE)).valid());
  }

  @Test
  void aStaleReadIsCaught() {
    List<Op> h = List.of(transfer("t1", 10, 20, Outcome.OK, 5), read(30, 40, 4, 100, 100));
    Map<String, Lookup> l = Map.of("t1", new Lookup(true, ResultCode.OK, 5));
    assertFalse(Checkers.realTimeOrder(h, fin(Map.of("a", 90L, "b", 110L), l, AGREE)).valid());
  }

  @Test
  void aReadThatDoesNotMatchTheLogIsCaught() {
    List<Op> h = List.of(transfer("t1", 10, 20, Outcome.OK, 5), read(30, 40, 5, 100, 100));
    Map<String, Lookup> l = Map.of("t1", new Lookup(true, ResultCode.OK, 5));
    assertFalse(Checkers.readsMatchReplay(h, fin(Map.of("a", 90L, "b", 110L), l, AGREE)).valid());
  }

  @Test
  void aReadWithTheWrongSumOrANegativeBalanceIsCaught() {
    assertFalse(
        Checkers.bank(List.of(read(1, 2, 3, 100, 101)), fin(INITIAL, Map.of(), AGREE)).valid());
    assertFalse(
        Checkers.bank(List.of(read(1, 2, 3, 210, -10)), fin(INITIAL, Map.of(), AGREE)).valid());
  }

  @Test
  void replicasThatDisagreeAreCaught() {
    List<NodeState> nodes = List.of(new NodeState("n1", 9, "r"), new NodeState("n2", 9, "x"));
    assertFalse(Checkers.replicaAgreement(fin(INITIAL, Map.of(), nodes)).valid());
    List<NodeState> behind = List.of(new NodeState("n1", 9, "r"), new NodeState("n2", 8, "r"));
    assertFalse(Checkers.replicaAgreement(fin(INITIAL, Map.of(), behind)).valid());
  }
}
