package io.cairn.chaos;

import io.cairn.chaos.History.Op;
import io.cairn.chaos.History.Outcome;
import io.cairn.proto.ResultCode;
import io.cairn.proto.StatementLine;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The checkers of a bank history. Each returns a {@link Verdict} naming the first anomalies and the
 * operations involved. Linearizability is checked on the log indexes the system returns (design.md
 * allows this instead of a WGL search): real-time order must agree with index order, and replaying
 * the applied transfers in index order must reproduce every observed read.
 */
public final class Checkers {
  private Checkers() {}

  /** Valid, or the anomalies found (at most a few, with the offending operations). */
  public record Verdict(String checker, boolean valid, List<String> anomalies) {
    @Override
    public String toString() {
      return checker + ": " + (valid ? "valid" : "INVALID " + anomalies);
    }
  }

  /** What a transfer id turned out to be, looked up after recovery. */
  public record Lookup(boolean found, ResultCode code, long index) {}

  /** A node's (applied index, state root hex) after recovery; index -1 if it did not answer. */
  public record NodeState(String node, long index, String root) {}

  /**
   * Everything the checkers need besides the history; {@code statements} (each account's whole
   * {@code ListTransfers} statement after recovery) is null when it was not read.
   */
  public record Final(
      Map<String, Long> initial,
      long setupIndex,
      Map<String, Long> balances,
      Map<String, Lookup> lookups,
      List<NodeState> nodes,
      Map<String, List<StatementLine>> statements) {
    public Final(
        Map<String, Long> initial,
        long setupIndex,
        Map<String, Long> balances,
        Map<String, Lookup> lookups,
        List<NodeState> nodes) {
      this(initial, setupIndex, balances, lookups, nodes, null);
    }
  }

  private static final int MAX_REPORTED = 5;

  public static List<Verdict> all(List<Op> history, Final f) {
    List<Verdict> v =
        new ArrayList<>(
            List.of(
                bank(history, f),
                exactlyOnce(history, f),
                realTimeOrder(history, f),
                readsMatchReplay(history, f),
                replicaAgreement(f)));
    if (f.statements() != null) {
      v.add(statements(f));
    }
    return v;
  }

  /**
   * Each account's statement is in log order and its balances chain (each line's balance is the
   * previous one plus its credit minus its debit) to the account's final balance; every transfer
   * the lookups found applied is on exactly two statements, once each, at its applied index, and no
   * other transfer is on any.
   */
  public static Verdict statements(Final f) {
    List<String> bad = new ArrayList<>();
    Map<String, Integer> lines = new HashMap<>();
    for (Map.Entry<String, List<StatementLine>> e : new TreeMap<>(f.statements()).entrySet()) {
      String account = e.getKey();
      long balance = 0;
      long lastIndex = 0;
      for (StatementLine l : e.getValue()) {
        String id = l.getOperation().getId();
        if (l.getAppliedIndex() < lastIndex) {
          note(bad, account + ": " + id + " at " + l.getAppliedIndex() + " is out of log order");
        }
        lastIndex = l.getAppliedIndex();
        long expected = balance + l.getCredit() - l.getDebit();
        if (l.getBalanceAfter() != expected) {
          note(
              bad,
              account + ": after " + id + " balance " + l.getBalanceAfter() + ", not " + expected);
        }
        balance = l.getBalanceAfter();
        if (l.getOperation().hasTransfer()) {
          lines.merge(id, 1, Integer::sum);
          Lookup found = f.lookups().get(id);
          if (found != null && found.found() && found.index() != l.getAppliedIndex()) {
            note(
                bad,
                account + ": " + id + " at " + l.getAppliedIndex() + ", looked up at " + found);
          }
        }
      }
      Long last = f.balances().get(account);
      if (last == null || last != balance) {
        note(bad, account + ": the statement ends at " + balance + ", the ledger says " + last);
      }
    }
    for (Map.Entry<String, Lookup> e : new TreeMap<>(f.lookups()).entrySet()) {
      boolean applied = e.getValue().found() && e.getValue().code() == ResultCode.OK;
      int n = lines.getOrDefault(e.getKey(), 0);
      if (applied ? n != 2 : n != 0) {
        note(bad, e.getKey() + " (" + e.getValue() + ") is on " + n + " statement lines");
      }
    }
    for (String id : new TreeMap<>(lines).keySet()) {
      if (!f.lookups().containsKey(id)) {
        note(bad, "statements list " + id + ", which no client sent");
      }
    }
    return new Verdict("statements", bad.isEmpty(), bad);
  }

  /** Every ok read of all balances sums to the total and has no negative balance. */
  public static Verdict bank(List<Op> history, Final f) {
    long total = f.initial().values().stream().mapToLong(Long::longValue).sum();
    List<String> bad = new ArrayList<>();
    for (Op op : history) {
      if (op.isRead() && op.outcome() == Outcome.OK) {
        long sum = op.balances().values().stream().mapToLong(Long::longValue).sum();
        boolean negative = op.balances().values().stream().anyMatch(v -> v < 0);
        if (sum != total || negative) {
          note(
              bad,
              "read "
                  + op
                  + " sums to "
                  + sum
                  + " (expected "
                  + total
                  + ")"
                  + (negative ? " with a negative balance" : ""));
        }
      }
    }
    return new Verdict("bank", bad.isEmpty(), bad);
  }

  /**
   * Every acknowledged transfer is in the final ledger exactly as acknowledged, every failed one is
   * absent, unknown ones are resolved by lookup, and replaying exactly the transfers found applied
   * from the initial balances gives the final balances (nothing lost, doubled or invented).
   */
  public static Verdict exactlyOnce(List<Op> history, Final f) {
    List<String> bad = new ArrayList<>();
    Map<String, Long> replay = new TreeMap<>(f.initial());
    for (Op op : history) {
      if (!op.isTransfer()) {
        continue;
      }
      Lookup l = f.lookups().get(op.id());
      if (l == null) {
        note(bad, "transfer " + op.id() + " was never looked up");
        continue;
      }
      if (op.outcome() == Outcome.OK
          && (!l.found() || l.code() != op.code() || l.index() != op.index())) {
        note(bad, "acknowledged " + op + " but the ledger says " + l);
      }
      if (op.outcome() == Outcome.FAIL && l.found()) {
        note(bad, "failed " + op + " was applied anyway: " + l);
      }
      if (l.found() && l.code() == ResultCode.OK) {
        replay.merge(op.from(), -op.amount(), Long::sum);
        replay.merge(op.to(), op.amount(), Long::sum);
      }
    }
    if (!replay.equals(new TreeMap<>(f.balances()))) {
      note(
          bad,
          "final balances "
              + new TreeMap<>(f.balances())
              + " differ from the replay of applied transfers "
              + replay);
    }
    return new Verdict("exactly-once", bad.isEmpty(), bad);
  }

  /**
   * If operation A completed before B was invoked, A's index must not exceed B's: a read must see
   * every write acknowledged before it began, and the log must not reorder completed writes.
   */
  public static Verdict realTimeOrder(List<Op> history, Final f) {
    List<Op> ok = new ArrayList<>();
    for (Op op : history) {
      if (op.outcome() == Outcome.OK && op.index() > 0) {
        ok.add(op);
      }
    }
    List<Op> byComplete = new ArrayList<>(ok);
    byComplete.sort(Comparator.comparingLong(Op::completeNanos));
    List<Op> byInvoke = new ArrayList<>(ok);
    byInvoke.sort(Comparator.comparingLong(Op::invokeNanos));
    List<String> bad = new ArrayList<>();
    int i = 0;
    Op highest = null;
    for (Op b : byInvoke) {
      while (i < byComplete.size() && byComplete.get(i).completeNanos() < b.invokeNanos()) {
        Op a = byComplete.get(i++);
        if (a.isTransfer() && (highest == null || a.index() > highest.index())) {
          highest = a;
        }
      }
      if (highest != null && b.index() < highest.index()) {
        note(
            bad,
            (b.isRead() ? "stale read " : "write ordered before an earlier one ")
                + b
                + " at index "
                + b.index()
                + " began after "
                + highest
                + " was acknowledged at index "
                + highest.index());
      }
    }
    return new Verdict("real-time-order", bad.isEmpty(), bad);
  }

  /**
   * Replaying every applied transfer (from the lookups) in index order reproduces each ok read
   * exactly at the read's index (one entry may hold many transfers: the read sees all of them).
   */
  public static Verdict readsMatchReplay(List<Op> history, Final f) {
    Map<String, Op> transfers = new HashMap<>();
    for (Op op : history) {
      if (op.isTransfer()) {
        transfers.put(op.id(), op);
      }
    }
    List<Map.Entry<Long, Op>> applied = new ArrayList<>();
    for (Map.Entry<String, Lookup> e : f.lookups().entrySet()) {
      if (e.getValue().found() && e.getValue().code() == ResultCode.OK) {
        applied.add(Map.entry(e.getValue().index(), transfers.get(e.getKey())));
      }
    }
    applied.sort(Map.Entry.comparingByKey());
    List<Op> reads = new ArrayList<>();
    for (Op op : history) {
      if (op.isRead() && op.outcome() == Outcome.OK) {
        reads.add(op);
      }
    }
    reads.sort(Comparator.comparingLong(Op::index));
    List<String> bad = new ArrayList<>();
    Map<String, Long> state = new TreeMap<>(f.initial());
    int next = 0;
    for (Op r : reads) {
      if (r.index() < f.setupIndex()) {
        note(
            bad,
            "read "
                + r
                + " at index "
                + r.index()
                + " predates the set-up (index "
                + f.setupIndex()
                + ")");
        continue;
      }
      while (next < applied.size() && applied.get(next).getKey() <= r.index()) {
        Op t = applied.get(next++).getValue();
        state.merge(t.from(), -t.amount(), Long::sum);
        state.merge(t.to(), t.amount(), Long::sum);
      }
      if (!state.equals(new TreeMap<>(r.balances()))) {
        note(
            bad,
            "read "
                + r
                + " at index "
                + r.index()
                + " saw "
                + new TreeMap<>(r.balances())
                + " but the log up to that index gives "
                + state);
      }
    }
    return new Verdict("reads-match-replay", bad.isEmpty(), bad);
  }

  /** After recovery every node reports the same applied index and state root. */
  public static Verdict replicaAgreement(Final f) {
    List<String> bad = new ArrayList<>();
    long index = f.nodes().isEmpty() ? -1 : f.nodes().get(0).index();
    String root = f.nodes().isEmpty() ? "" : f.nodes().get(0).root();
    for (NodeState n : f.nodes()) {
      if (n.index() != index || !n.root().equals(root)) {
        note(bad, "nodes disagree: " + f.nodes());
        break;
      }
    }
    return new Verdict("replica-agreement", bad.isEmpty(), bad);
  }

  private static void note(List<String> bad, String what) {
    if (bad.size() < MAX_REPORTED) {
      bad.add(what);
    } else if (bad.size() == MAX_REPORTED) {
      bad.add("... more");
    }
  }
}
