package io.cairn.node.ledger;

import io.cairn.proto.Account;
import io.cairn.proto.DedupeRecord;
import io.cairn.proto.LedgerSnapshotHeader;
import io.cairn.proto.Operation;
import io.cairn.proto.ResultCode;
import io.cairn.proto.rules.Rules;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The token ledger: accounts with unsigned 64-bit balances, and the operations that change them,
 * each answered with a result code. Plain, deterministic Java: it never reads a clock or a random
 * source (time comes with each log entry) and never lets hash-map iteration order reach a result.
 *
 * <p>Exactly-once: every operation id is remembered, with its result, in a dedupe table bounded by
 * time and count; the rules (and why a retry after eviction is always {@code EXPIRED}, never
 * re-applied) are in docs/internals.md.
 *
 * <p>Not thread-safe: the state machine applies entries on one thread and readers hold its lock.
 */
public final class Ledger {
  private static final int MAX_ID_LENGTH = 64;

  /** One account's state; immutable so a staged change never leaks into the live map. */
  private record State(long balance, long version) {}

  private final LedgerLimits limits;
  // Lookups by id go to a hash map (one or two cache misses, where a tree of a million strings
  // costs twenty compares); id order, for pages and snapshots, comes from a separate sorted set
  // that changes only when an account is created. On the apply thread that is the difference
  // between the ledger and the Merkle tree being the bigger cost (see docs/internals.md).
  private final HashMap<String, State> accounts = new HashMap<>();
  private final TreeSet<String> ids = new TreeSet<>();
  private final DedupeTable dedupe = new DedupeTable();
  // Accounts changed since the last drain; sorted when drained, so no hash order escapes.
  private final HashSet<String> changed = new HashSet<>();
  // Per operation of the last apply() call, aligned with its results: the post-state of the
  // accounts that operation changed (empty when it changed nothing). Read by the Watch stream.
  private List<List<Account>> lastOpChanges = List.of();
  private long nowMillis;
  private long floorMillis;
  private long totalMinted;
  private long totalBurned;
  private long totalBalance;

  public Ledger(LedgerLimits limits) {
    this.limits = limits;
  }

  /**
   * Applies one client's operations, all or nothing when {@code atomic}, at ledger time {@code
   * max(previous, entryTimeMillis)}; one result per operation, in order. Never throws for bad
   * input: every problem is a result code.
   */
  public List<OpResult> apply(
      long entryTimeMillis, long logIndex, List<Operation> ops, boolean atomic) {
    nowMillis = Math.max(nowMillis, entryTimeMillis);
    evictByTime();
    return atomic ? applyAtomic(ops, logIndex) : applyEach(ops, logIndex);
  }

  /**
   * For each operation of the last {@link #apply} call, aligned with its results: the accounts that
   * operation changed, with their state right after it (sorted by id; empty for a failed,
   * rolled-back or replayed operation). Within an atomic batch the state is the one the batch had
   * reached after that operation.
   */
  public List<List<Account>> lastOperationChanges() {
    return lastOpChanges;
  }

  private List<OpResult> applyEach(List<Operation> ops, long logIndex) {
    List<OpResult> results = new ArrayList<>(ops.size());
    List<List<Account>> opChanges = new ArrayList<>(ops.size());
    for (Operation op : ops) {
      OpResult refused = admit(op, null);
      if (refused != null) {
        results.add(refused);
        opChanges.add(List.of());
        continue;
      }
      Txn txn = new Txn();
      ResultCode code = execute(op, txn);
      if (code == ResultCode.OK) {
        opChanges.add(txn.touchedState());
        txn.commit();
      } else {
        opChanges.add(List.of());
      }
      record(op, code, logIndex);
      results.add(new OpResult(op.getId(), code, false, logIndex));
    }
    lastOpChanges = opChanges;
    return results;
  }

  /**
   * All or nothing. Operations are executed in order against one staged transaction; the first
   * failure stops it, reports its own code, and every other new operation reports ROLLED_BACK.
   * Replays of earlier ids return their stored result and take no part in the decision.
   */
  private List<OpResult> applyAtomic(List<Operation> ops, long logIndex) {
    int n = ops.size();
    OpResult[] results = new OpResult[n];
    List<List<Account>> staged = new ArrayList<>(java.util.Collections.nCopies(n, List.of()));
    boolean[] recordable = new boolean[n];
    Map<String, Integer> firstInBatch = new HashMap<>();
    Txn txn = new Txn();
    int failedAt = -1;
    ResultCode failure = null;
    for (int i = 0; i < n && failedAt < 0; i++) {
      Operation op = ops.get(i);
      OpResult refused = admit(op, firstInBatch);
      if (refused != null) {
        if (refused.replayed()) {
          results[i] = refused;
          continue;
        }
        failedAt = i;
        failure = refused.code();
        results[i] = refused;
        break;
      }
      recordable[i] = true;
      firstInBatch.put(op.getId(), i);
      txn.beginOperation();
      ResultCode code = execute(op, txn);
      if (code != ResultCode.OK) {
        failedAt = i;
        failure = code;
      } else {
        staged.set(i, txn.touchedState());
      }
    }
    boolean ok = failedAt < 0;
    if (ok) {
      txn.commit();
    }
    lastOpChanges = ok ? staged : java.util.Collections.nCopies(n, List.of());
    for (int i = 0; i < n; i++) {
      Operation op = ops.get(i);
      if (results[i] != null) {
        continue; // a replay, or the refusal (EXPIRED, DUPLICATE_ID, ...) that failed the batch
      }
      if (i == failedAt) {
        record(op, failure, logIndex);
        results[i] = new OpResult(op.getId(), failure, false, logIndex);
        continue;
      }
      if (!recordable[i]) {
        // Not reached before the failure: admit it now only to learn whether it is a replay,
        // a refusal (EXPIRED, ...) or a new operation to mark ROLLED_BACK.
        OpResult refused = admit(op, firstInBatch);
        if (refused != null) {
          results[i] = refused;
          continue;
        }
        firstInBatch.put(op.getId(), i);
      }
      ResultCode code = ok ? ResultCode.OK : ResultCode.ROLLED_BACK;
      record(op, code, logIndex);
      results[i] = new OpResult(op.getId(), code, false, logIndex);
    }
    return List.of(results);
  }

  /** The admission decision for one operation: its final result, or null to go ahead. */
  private OpResult admit(Operation op, Map<String, Integer> pendingInBatch) {
    String id = op.getId();
    if (!Rules.isValidId(id)) {
      return new OpResult(id, ResultCode.INVALID_OPERATION_ID, false, 0);
    }
    int seen = dedupe.find(id);
    if (seen >= 0) {
      if (sameBody(dedupe.operation(seen), op)) {
        return new OpResult(id, dedupe.code(seen), true, dedupe.appliedIndex(seen));
      }
      return new OpResult(id, ResultCode.DUPLICATE_ID, false, 0);
    }
    if (pendingInBatch != null && pendingInBatch.containsKey(id)) {
      // Same id twice in one atomic batch: the second is a retry of the first, which has no
      // stored result yet; refuse it as a duplicate so the batch cannot apply it twice.
      return new OpResult(id, ResultCode.DUPLICATE_ID, false, 0);
    }
    long created = op.getCreatedAtMillis();
    if (created > nowMillis + limits.maxClockSkewMillis()) {
      return new OpResult(id, ResultCode.TIMESTAMP_IN_FUTURE, false, 0);
    }
    if (created < nowMillis - limits.dedupeWindowMillis() || created <= floorMillis) {
      return new OpResult(id, ResultCode.EXPIRED, false, 0);
    }
    return null;
  }

  private ResultCode execute(Operation op, Txn txn) {
    Rules.Violation invalid = Rules.checkBody(op);
    if (invalid != null) {
      return invalid.code();
    }
    switch (op.getKindCase()) {
      case CREATE_ACCOUNT:
        {
          String a = op.getCreateAccount().getAccount();
          if (txn.get(a) != null) {
            return ResultCode.ACCOUNT_EXISTS;
          }
          if (accounts.size() + txn.created >= limits.maxAccounts()) {
            return ResultCode.ACCOUNT_LIMIT_REACHED;
          }
          txn.put(a, new State(0, 1));
          txn.created++;
          return ResultCode.OK;
        }
      case MINT:
        {
          String a = op.getMint().getAccount();
          long amount = op.getMint().getAmount();
          State s = txn.get(a);
          if (s == null) {
            return ResultCode.NO_SUCH_ACCOUNT;
          }
          long minted = totalMinted + txn.minted;
          if (Long.compareUnsigned(minted + amount, minted) < 0
              || Long.compareUnsigned(s.balance() + amount, s.balance()) < 0) {
            return ResultCode.AMOUNT_OVERFLOW;
          }
          txn.put(a, new State(s.balance() + amount, s.version() + 1));
          txn.minted += amount;
          return ResultCode.OK;
        }
      case BURN:
        {
          String a = op.getBurn().getAccount();
          long amount = op.getBurn().getAmount();
          State s = txn.get(a);
          if (s == null) {
            return ResultCode.NO_SUCH_ACCOUNT;
          }
          if (Long.compareUnsigned(s.balance(), amount) < 0) {
            return ResultCode.INSUFFICIENT_FUNDS;
          }
          txn.put(a, new State(s.balance() - amount, s.version() + 1));
          txn.burned += amount;
          return ResultCode.OK;
        }
      case TRANSFER:
        return transfer(op.getTransfer(), txn);
      default:
        // Unreachable: the rule book refuses an operation without a kind.
        return ResultCode.INVALID_OPERATION;
    }
  }

  private ResultCode transfer(io.cairn.proto.Transfer t, Txn txn) {
    String from = t.getFrom();
    String to = t.getTo();
    long amount = t.getAmount();
    State src = txn.get(from);
    State dst = txn.get(to);
    if (src == null || dst == null) {
      return ResultCode.NO_SUCH_ACCOUNT;
    }
    if (t.hasExpectedFromVersion() && t.getExpectedFromVersion() != src.version()) {
      return ResultCode.VERSION_MISMATCH;
    }
    if (Long.compareUnsigned(src.balance(), amount) < 0) {
      return ResultCode.INSUFFICIENT_FUNDS;
    }
    if (Long.compareUnsigned(dst.balance() + amount, dst.balance()) < 0) {
      // Unreachable while total supply fits in 64 bits; kept so a broken invariant is a code.
      return ResultCode.AMOUNT_OVERFLOW;
    }
    txn.put(from, new State(src.balance() - amount, src.version() + 1));
    txn.put(to, new State(dst.balance() + amount, dst.version() + 1));
    return ResultCode.OK;
  }

  /** Staged changes over the live accounts; nothing is visible until {@link #commit()}. */
  private final class Txn {
    private final Map<String, State> staged = new HashMap<>();
    private final List<String> order = new ArrayList<>();
    // Ids put since beginOperation(): at most two (a transfer's accounts).
    private final List<String> touched = new ArrayList<>(2);
    long minted;
    long burned;
    int created;

    State get(String id) {
      State s = staged.get(id);
      return s != null ? s : accounts.get(id);
    }

    void put(String id, State s) {
      if (staged.put(id, s) == null) {
        order.add(id);
      }
      if (!touched.contains(id)) {
        touched.add(id);
      }
    }

    void beginOperation() {
      touched.clear();
    }

    /** The staged state of the accounts put since {@link #beginOperation()}, sorted by id. */
    List<Account> touchedState() {
      List<String> ids = new ArrayList<>(touched);
      java.util.Collections.sort(ids);
      List<Account> out = new ArrayList<>(ids.size());
      for (String id : ids) {
        out.add(toProto(id, staged.get(id)));
      }
      return List.copyOf(out);
    }

    void commit() {
      for (String id : order) {
        State next = staged.get(id);
        State prev = accounts.put(id, next);
        if (prev == null) {
          ids.add(id);
        }
        long before = prev == null ? 0 : prev.balance();
        totalBalance += next.balance() - before;
        changed.add(id);
      }
      totalMinted += minted;
      totalBurned += burned;
      assert totalMinted - totalBurned == totalBalance : "conservation broken";
    }
  }

  private void record(Operation op, ResultCode code, long logIndex) {
    while (dedupe.size() >= limits.dedupeMaxEntries()) { // the limit is at least 1
      // A retry resends the very same operation, created_at included: make that EXPIRED.
      // (Not recorded_at + skew: under sustained load that bound runs ahead of the ledger's
      // clock, and every new operation was refused as EXPIRED once the table filled.)
      floorMillis = Math.max(floorMillis, dedupe.createdAt(dedupe.oldest()));
      dedupe.evictOldest();
    }
    dedupe.add(op, code, logIndex, nowMillis);
  }

  private void evictByTime() {
    long horizon = nowMillis - limits.dedupeWindowMillis() - limits.maxClockSkewMillis();
    while (dedupe.size() > 0 && dedupe.recordedAt(dedupe.oldest()) < horizon) {
      dedupe.evictOldest();
    }
  }

  /**
   * Whether two operations under one id are the same request: same kind and same body, field by
   * field (not by protobuf bytes, which are not canonical across library versions). The creation
   * time is left out: a person re-issuing the same transfer under the same id is a retry, whatever
   * their clock says now.
   */
  static boolean sameBody(Operation a, Operation b) {
    if (a.getKindCase() != b.getKindCase()) {
      return false;
    }
    return switch (a.getKindCase()) {
      case CREATE_ACCOUNT ->
          a.getCreateAccount().getAccount().equals(b.getCreateAccount().getAccount());
      case MINT ->
          a.getMint().getAccount().equals(b.getMint().getAccount())
              && a.getMint().getAmount() == b.getMint().getAmount();
      case BURN ->
          a.getBurn().getAccount().equals(b.getBurn().getAccount())
              && a.getBurn().getAmount() == b.getBurn().getAmount();
      case TRANSFER -> {
        var x = a.getTransfer();
        var y = b.getTransfer();
        yield x.getFrom().equals(y.getFrom())
            && x.getTo().equals(y.getTo())
            && x.getAmount() == y.getAmount()
            && x.hasExpectedFromVersion() == y.hasExpectedFromVersion()
            && x.getExpectedFromVersion() == y.getExpectedFromVersion();
      }
      default -> true;
    };
  }

  // ---- reads (caller holds the state machine's read lock) ----

  /** Accounts changed since the last drain, each once, sorted by id, with their current state. */
  public List<Account> drainChangedAccounts() {
    String[] sorted = changed.toArray(new String[0]);
    java.util.Arrays.sort(sorted);
    List<Account> out = new ArrayList<>(sorted.length);
    for (String id : sorted) {
      out.add(toProto(id, accounts.get(id)));
    }
    changed.clear();
    return out;
  }

  public Optional<Account> account(String id) {
    State s = accounts.get(id);
    return s == null ? Optional.empty() : Optional.of(toProto(id, s));
  }

  /** Up to {@code limit} accounts with id greater than {@code startAfter}, in id order. */
  public List<Account> accountsAfter(String startAfter, int limit) {
    List<Account> out = new ArrayList<>(Math.min(limit, 1024));
    for (String id : ids.tailSet(startAfter, false)) {
      if (out.size() >= limit) {
        break;
      }
      out.add(toProto(id, accounts.get(id)));
    }
    return out;
  }

  /** The remembered record of an operation id, if it is still within the dedupe window. */
  public Optional<DedupeRecord> operation(String id) {
    int slot = dedupe.find(id);
    return slot < 0 ? Optional.empty() : Optional.of(dedupeRecord(slot));
  }

  private DedupeRecord dedupeRecord(int slot) {
    return DedupeRecord.newBuilder()
        .setOperation(dedupe.operation(slot))
        .setCode(dedupe.code(slot))
        .setAppliedIndex(dedupe.appliedIndex(slot))
        .setRecordedAtMillis(dedupe.recordedAt(slot))
        .build();
  }

  public LedgerTotals totals() {
    return new LedgerTotals(
        accounts.size(),
        totalMinted,
        totalBurned,
        totalBalance,
        dedupe.size(),
        floorMillis,
        nowMillis);
  }

  /** O(n) check of conservation and bookkeeping; throws naming what is wrong. */
  public void checkInvariants() {
    if (ids.size() != accounts.size() || !ids.containsAll(accounts.keySet())) {
      throw new IllegalStateException(
          "id index holds " + ids.size() + " ids for " + accounts.size() + " accounts");
    }
    long sum = 0;
    for (String id : ids) {
      State s = accounts.get(id);
      long before = sum;
      sum += s.balance();
      if (Long.compareUnsigned(sum, before) < 0) {
        throw new IllegalStateException("sum of balances overflows at account " + id);
      }
      if (s.version() < 1) {
        throw new IllegalStateException("account " + id + " has version < 1");
      }
    }
    if (sum != totalBalance || totalMinted - totalBurned != sum) {
      throw new IllegalStateException(
          "conservation broken: minted "
              + Long.toUnsignedString(totalMinted)
              + " - burned "
              + Long.toUnsignedString(totalBurned)
              + " != sum of balances "
              + Long.toUnsignedString(sum));
    }
    dedupe.checkConsistent();
  }

  private static Account toProto(String id, State s) {
    return Account.newBuilder().setId(id).setBalance(s.balance()).setVersion(s.version()).build();
  }

  // ---- snapshots (the byte format is raft/LedgerSnapshotCodec's) ----

  /**
   * Everything a snapshot holds, copied in O(accounts + remembered operations) without encoding
   * anything, so that the (much slower) writing can happen elsewhere while this ledger goes on
   * applying entries. The copy shares only immutable objects with the ledger.
   */
  public SnapshotCopy snapshotCopy() {
    // In hash order: one pass over the map, no lookup per id. The writer sorts, off this thread.
    String[] unsortedIds = new String[accounts.size()];
    State[] states = new State[unsortedIds.length];
    int n = 0;
    for (Map.Entry<String, State> e : accounts.entrySet()) {
      unsortedIds[n] = e.getKey();
      states[n] = e.getValue();
      n++;
    }
    LedgerSnapshotHeader header =
        LedgerSnapshotHeader.newBuilder()
            .setNowMillis(nowMillis)
            .setFloorMillis(floorMillis)
            .setTotalMinted(totalMinted)
            .setTotalBurned(totalBurned)
            .setAccountCount(unsortedIds.length)
            .setDedupeCount(dedupe.size())
            .build();
    return new SnapshotCopy(header, unsortedIds, states, dedupe.freeze());
  }

  /** A point-in-time copy of a ledger (see {@link #snapshotCopy}). */
  public static final class SnapshotCopy {
    private final LedgerSnapshotHeader header;
    private final String[] ids;
    private final State[] states;
    private final DedupeTable.Frozen dedupe;

    private SnapshotCopy(
        LedgerSnapshotHeader header, String[] ids, State[] states, DedupeTable.Frozen dedupe) {
      this.header = header;
      this.ids = ids;
      this.states = states;
      this.dedupe = dedupe;
    }

    /** Ledger time, floor and totals, and how many accounts and records follow. */
    public LedgerSnapshotHeader header() {
      return header;
    }

    public long accounts() {
      return header.getAccountCount();
    }

    public long rememberedOperations() {
      return header.getDedupeCount();
    }

    /**
     * The positions of the accounts in id order, for {@link #account}: sorted on the caller's
     * thread (a snapshot writer's), never the apply thread's.
     */
    public int[] idOrder() {
      Integer[] byId = new Integer[ids.length];
      for (int i = 0; i < byId.length; i++) {
        byId[i] = i;
      }
      java.util.Arrays.sort(byId, (x, y) -> ids[x].compareTo(ids[y]));
      int[] out = new int[byId.length];
      for (int i = 0; i < out.length; i++) {
        out[i] = byId[i];
      }
      return out;
    }

    /** The account at position {@code i} (see {@link #idOrder}). */
    public Account account(int i) {
      return toProto(ids[i], states[i]);
    }

    /**
     * Remembered operation {@code i} (oldest first, {@code i < rememberedOperations()}) as protobuf
     * bytes, a read-only view: a snapshot writer frames them as they are instead of decoding and
     * re-encoding every record, which made writing a snapshot 3x slower.
     */
    public java.nio.ByteBuffer rememberedOperationBytes(int i) {
      return dedupe.operationBytes(i);
    }

    /** Remembered operation {@code i}'s result code number. */
    public int rememberedCodeNumber(int i) {
      return dedupe.codeNumber(i);
    }

    public long rememberedAppliedIndex(int i) {
      return dedupe.appliedIndex(i);
    }

    public long rememberedRecordedAtMillis(int i) {
      return dedupe.recordedAt(i);
    }
  }

  /**
   * Rebuilds a ledger from a snapshot's parts, in the order a snapshot holds them: first the
   * totals, then every account in strictly increasing id order, then every remembered operation
   * oldest first. Each call checks what it is given; {@link #finish} checks the whole.
   */
  public static final class Restorer {
    private final Ledger l;
    private String previousId;
    private long lastRecorded = Long.MIN_VALUE;

    public Restorer(LedgerLimits limits, LedgerSnapshotHeader header) {
      l = new Ledger(limits);
      l.nowMillis = header.getNowMillis();
      l.floorMillis = header.getFloorMillis();
      l.totalMinted = header.getTotalMinted();
      l.totalBurned = header.getTotalBurned();
    }

    /** Adds an account; IllegalArgumentException if its id is invalid or out of order. */
    public void account(Account a) {
      if (!Rules.isValidId(a.getId())
          || (previousId != null && previousId.compareTo(a.getId()) >= 0)) {
        throw new IllegalArgumentException(
            "account '" + a.getId() + "' is invalid or out of order");
      }
      l.accounts.put(a.getId(), new State(a.getBalance(), a.getVersion()));
      l.ids.add(a.getId());
      l.totalBalance += a.getBalance();
      previousId = a.getId();
    }

    /**
     * Adds a remembered operation; IllegalArgumentException if invalid, repeated or out of order.
     */
    public void remembered(DedupeRecord r) {
      String id = r.getOperation().getId();
      if (!Rules.isValidId(id)
          || l.dedupe.find(id) >= 0
          || r.getRecordedAtMillis() < lastRecorded) {
        throw new IllegalArgumentException(
            "dedupe record '" + id + "' is invalid, repeated or out of order");
      }
      l.dedupe.add(r.getOperation(), r.getCode(), r.getAppliedIndex(), r.getRecordedAtMillis());
      lastRecorded = r.getRecordedAtMillis();
    }

    /** The ledger, once its invariants hold; IllegalStateException naming what is wrong. */
    public Ledger finish() {
      l.checkInvariants();
      return l;
    }
  }
}
