package io.cairn.node.ledger;

import io.cairn.proto.Account;
import io.cairn.proto.DedupeRecord;
import io.cairn.proto.LedgerSnapshotHeader;
import io.cairn.proto.Operation;
import io.cairn.proto.ResultCode;
import io.cairn.proto.Role;
import io.cairn.proto.RoleGrant;
import io.cairn.proto.rules.Rules;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The token ledger: accounts with unsigned 64-bit balances, and the operations that change them,
 * each answered with a result code. Plain, deterministic Java: it never reads a clock or a random
 * source (time comes with each log entry) and never lets hash-map iteration order reach a result.
 *
 * <p>Exactly-once: every operation id is remembered, with its result and the principal that
 * submitted it, in a dedupe table bounded by time and count, and behind it in the durable {@link
 * History} (every applied operation, kept by the store); the rules (and why an id neither of them
 * knows is {@code EXPIRED}, never re-applied) are in docs/internals.md.
 *
 * <p>Permissions are decided here, at apply, from the {@link Caller} recorded in the log entry and
 * the replicated role table, so every replica decides alike. An admin ({@link #isAdmin}) may do
 * everything; an {@code ISSUER} may create accounts, mint and burn; any role holder may transfer
 * from an account it owns. The checks run in this order, the first that fails giving the result:
 *
 * <ol>
 *   <li>the request's principal is empty or valid, else every operation is {@code
 *       PERMISSION_DENIED} (not recorded; the API never logs such a principal);
 *   <li>the operation id is valid ({@code INVALID_OPERATION_ID}, not recorded);
 *   <li>the id is remembered, in the dedupe table or else in the history: same body → its stored
 *       result, {@code replayed}, whoever sends it; another body → {@code DUPLICATE_ID} (not
 *       recorded); so is an id repeated in one atomic batch;
 *   <li>{@code created_at} is not too far ahead ({@code TIMESTAMP_IN_FUTURE}) and not older than
 *       the window ({@code EXPIRED}), nor at the floor when there is no complete history; neither
 *       is recorded;
 *   <li>the body meets the rule book ({@link Rules#checkBody}: {@code INVALID_ACCOUNT_ID}, {@code
 *       INVALID_AMOUNT}, {@code SAME_ACCOUNT}, {@code INVALID_ROLE}, {@code INVALID_OPERATION});
 *   <li>permission ({@code PERMISSION_DENIED}): roles first; for a transfer by a non-admin role
 *       holder, a missing source account is left to the next step, an existing one must be owned by
 *       the caller;
 *   <li>a debit from an account that requires signatures carries one ({@code SIGNATURE_REQUIRED});
 *       whether it verifies was the leader's check, before append;
 *   <li>the state ({@code ACCOUNT_EXISTS}, {@code ACCOUNT_LIMIT_REACHED}, {@code NO_SUCH_ACCOUNT},
 *       {@code VERSION_MISMATCH}, {@code INSUFFICIENT_FUNDS}, {@code AMOUNT_OVERFLOW}, {@code
 *       ROLE_LIMIT_REACHED}), then the change.
 * </ol>
 *
 * Results from step 5 on, success or failure, are recorded under the id. Roles and owners are read
 * through the operation's transaction, so in an atomic batch an operation sees the grants and
 * revocations of the operations before it; a revocation takes effect from the next operation.
 *
 * <p>Not thread-safe: the state machine applies entries on one thread and readers hold its lock.
 */
public final class Ledger {
  private static final int MAX_ID_LENGTH = 64;

  /**
   * One account's state; immutable so a staged change never leaks into the live map. {@code owner}
   * is "" for none.
   */
  private record State(long balance, long version, String owner, Signer signer) {
    State next(long newBalance) {
      return new State(newBalance, version + 1, owner, signer);
    }
  }

  /**
   * An account's Ed25519 key (X.509 SubjectPublicKeyInfo DER) and whether debits must be signed;
   * null on a State for an account without a key. Never changes after creation.
   */
  private record Signer(com.google.protobuf.ByteString publicKey, boolean required) {
    static Signer of(com.google.protobuf.ByteString key, boolean required) {
      return key.isEmpty() ? null : new Signer(key, required);
    }
  }

  private final LedgerLimits limits;
  // Lookups by id go to a hash map (one or two cache misses, where a tree of a million strings
  // costs twenty compares); id order, for pages and snapshots, comes from a separate sorted set
  // that changes only when an account is created. On the apply thread that is the difference
  // between the ledger and the Merkle tree being the bigger cost (see docs/internals.md).
  private final HashMap<String, State> accounts = new HashMap<>();
  private final TreeSet<String> ids = new TreeSet<>();
  private final DedupeTable dedupe = new DedupeTable();
  private final RoleTable roleTable = new RoleTable();
  private long roleChanges; // commits that changed the role table (a reader's cue to look again)
  // Accounts changed since the last drain; sorted when drained, so no hash order escapes.
  private final HashSet<String> changed = new HashSet<>();
  // Per operation of the last apply() call, aligned with its results: the post-state of the
  // accounts that operation changed (empty when it changed nothing). Read by the Watch stream.
  private List<List<Account>> lastOpChanges = List.of();
  private History history = History.NONE;
  // The log index of the entry being applied: admit() asks the history only about entries below it.
  private long applyingIndex;
  private long nowMillis;
  private long floorMillis;
  private long totalMinted;
  private long totalBurned;
  private long totalBalance;

  public Ledger(LedgerLimits limits) {
    this.limits = limits;
  }

  /**
   * Applies one client's operations, submitted by {@code caller}, all or nothing when {@code
   * atomic}, at ledger time {@code max(previous, entryTimeMillis)}; one result per operation, in
   * order, decided as the class comment lists. Never throws for bad input: every problem is a
   * result code.
   */
  public List<OpResult> apply(
      long entryTimeMillis, long logIndex, Caller caller, List<Operation> ops, boolean atomic) {
    nowMillis = Math.max(nowMillis, entryTimeMillis);
    applyingIndex = logIndex;
    evictByTime();
    if (!caller.principal().isEmpty() && !Rules.isValidPrincipal(caller.principal())) {
      return deniedAll(ops);
    }
    return atomic ? applyAtomic(ops, logIndex, caller) : applyEach(ops, logIndex, caller);
  }

  /** A request whose principal breaks the rule: nothing is looked at, changed or recorded. */
  private List<OpResult> deniedAll(List<Operation> ops) {
    List<OpResult> results = new ArrayList<>(ops.size());
    for (Operation op : ops) {
      results.add(new OpResult(op.getId(), ResultCode.PERMISSION_DENIED, false, 0));
    }
    lastOpChanges = java.util.Collections.nCopies(ops.size(), List.of());
    return results;
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

  private List<OpResult> applyEach(List<Operation> ops, long logIndex, Caller caller) {
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
      ResultCode code = execute(op, txn, caller);
      if (code == ResultCode.OK) {
        opChanges.add(txn.touchedState());
        txn.commit();
      } else {
        opChanges.add(List.of());
      }
      record(op, code, logIndex, caller);
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
  private List<OpResult> applyAtomic(List<Operation> ops, long logIndex, Caller caller) {
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
      ResultCode code = execute(op, txn, caller);
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
        record(op, failure, logIndex, caller);
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
      record(op, code, logIndex, caller);
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
    // Behind the window, the durable history: an id applied by an earlier entry answers as a
    // retry does, however long ago and whatever created_at the retry carries.
    DedupeRecord past = history.find(id, applyingIndex);
    if (past != null) {
      return sameBody(past.getOperation(), op)
          ? new OpResult(id, past.getCode(), true, past.getAppliedIndex())
          : new OpResult(id, ResultCode.DUPLICATE_ID, false, 0);
    }
    long created = op.getCreatedAtMillis();
    if (created > nowMillis + limits.maxClockSkewMillis()) {
      return new OpResult(id, ResultCode.TIMESTAMP_IN_FUTURE, false, 0);
    }
    // A new operation created before the window is not taken as new. The count floor refuses only
    // without a complete history: with one, an id it does not know was never applied.
    if (created < nowMillis - limits.dedupeWindowMillis()
        || (created <= floorMillis && !history.complete())) {
      return new OpResult(id, ResultCode.EXPIRED, false, 0);
    }
    return null;
  }

  /** Steps 5 to 7 of the order in the class comment, against {@code txn}. */
  private ResultCode execute(Operation op, Txn txn, Caller caller) {
    Rules.Violation invalid = Rules.checkBody(op);
    if (invalid != null) {
      return invalid.code();
    }
    ResultCode denied = permission(op, txn, caller);
    if (denied != null) {
      return denied;
    }
    ResultCode unsigned = signatureRule(op, txn);
    if (unsigned != null) {
      return unsigned;
    }
    return switch (op.getKindCase()) {
      case CREATE_ACCOUNT -> createAccount(op.getCreateAccount(), txn, caller);
      case MINT -> mint(op.getMint(), txn);
      case BURN -> burn(op.getBurn(), txn);
      case TRANSFER -> transfer(op.getTransfer(), txn);
      case GRANT_ROLE ->
          changeRole(op.getGrantRole().getPrincipal(), op.getGrantRole().getRole(), true, txn);
      case REVOKE_ROLE ->
          changeRole(op.getRevokeRole().getPrincipal(), op.getRevokeRole().getRole(), false, txn);
      // Unreachable: the rule book refuses an operation without a kind.
      default -> ResultCode.INVALID_OPERATION;
    };
  }

  /**
   * Null when {@code caller} may run {@code op} (whose body is well formed), else {@code
   * PERMISSION_DENIED}. Reads roles and owners through {@code txn}, so an atomic batch sees its own
   * earlier grants, revocations and new accounts.
   */
  private ResultCode permission(Operation op, Txn txn, Caller caller) {
    String principal = caller.principal();
    Set<Role> held = principal.isEmpty() ? Set.of() : txn.roles(principal);
    if (caller.bootstrapAdmin() || held.contains(Role.ADMIN)) {
      return null;
    }
    boolean allowed =
        switch (op.getKindCase()) {
          case CREATE_ACCOUNT, MINT, BURN -> held.contains(Role.ISSUER);
          case TRANSFER -> {
            // Any role, and the source is the caller's; a missing source is NO_SUCH_ACCOUNT.
            State from = txn.get(op.getTransfer().getFrom());
            yield !held.isEmpty() && (from == null || from.owner().equals(principal));
          }
          default -> false; // GRANT_ROLE, REVOKE_ROLE: admins only
        };
    return allowed ? null : ResultCode.PERMISSION_DENIED;
  }

  /**
   * {@code SIGNATURE_REQUIRED} for a debit without a signature from an account that requires one,
   * else null. Whether a signature verifies is not decided here: the leader checked it before the
   * entry was appended (keys never change), so replicas do not verify on their apply threads.
   */
  private static ResultCode signatureRule(Operation op, Txn txn) {
    String debited = io.cairn.proto.signing.Signing.debitedAccount(op);
    if (debited == null || !op.getSignature().isEmpty()) {
      return null;
    }
    State s = txn.get(debited);
    return s != null && s.signer() != null && s.signer().required()
        ? ResultCode.SIGNATURE_REQUIRED
        : null;
  }

  private ResultCode createAccount(io.cairn.proto.CreateAccount c, Txn txn, Caller caller) {
    String a = c.getAccount();
    if (txn.get(a) != null) {
      return ResultCode.ACCOUNT_EXISTS;
    }
    if (accounts.size() + txn.created >= limits.maxAccounts()) {
      return ResultCode.ACCOUNT_LIMIT_REACHED;
    }
    String owner = c.getOwner().isEmpty() ? caller.principal() : c.getOwner();
    txn.put(
        a,
        new State(
            0,
            1,
            roleTable.canonical(owner),
            Signer.of(c.getPublicKey(), c.getRequireSignatures())));
    txn.created++;
    return ResultCode.OK;
  }

  private ResultCode mint(io.cairn.proto.Mint m, Txn txn) {
    String a = m.getAccount();
    long amount = m.getAmount();
    State s = txn.get(a);
    if (s == null) {
      return ResultCode.NO_SUCH_ACCOUNT;
    }
    long minted = totalMinted + txn.minted;
    if (Long.compareUnsigned(minted + amount, minted) < 0
        || Long.compareUnsigned(s.balance() + amount, s.balance()) < 0) {
      return ResultCode.AMOUNT_OVERFLOW;
    }
    txn.put(a, s.next(s.balance() + amount));
    txn.minted += amount;
    return ResultCode.OK;
  }

  private ResultCode burn(io.cairn.proto.Burn b, Txn txn) {
    String a = b.getAccount();
    long amount = b.getAmount();
    State s = txn.get(a);
    if (s == null) {
      return ResultCode.NO_SUCH_ACCOUNT;
    }
    if (Long.compareUnsigned(s.balance(), amount) < 0) {
      return ResultCode.INSUFFICIENT_FUNDS;
    }
    txn.put(a, s.next(s.balance() - amount));
    txn.burned += amount;
    return ResultCode.OK;
  }

  /**
   * Grants or revokes one role. Already so (granting a role held, revoking one not held) is OK and
   * changes nothing; a principal left without roles leaves the table.
   */
  private ResultCode changeRole(String principal, Role role, boolean grant, Txn txn) {
    Set<Role> held = txn.roles(principal);
    if (held.contains(role) == grant) {
      return ResultCode.OK;
    }
    if (held.isEmpty() && roleTable.size() + txn.principalsAdded >= limits.maxRolePrincipals()) {
      return ResultCode.ROLE_LIMIT_REACHED;
    }
    EnumSet<Role> next = EnumSet.noneOf(Role.class);
    next.addAll(held);
    if (grant) {
      next.add(role);
    } else {
      next.remove(role);
    }
    txn.setRoles(principal, RoleTable.frozen(next));
    return ResultCode.OK;
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
    txn.put(from, src.next(src.balance() - amount));
    txn.put(to, dst.next(dst.balance() + amount));
    return ResultCode.OK;
  }

  /** Staged changes over the live accounts; nothing is visible until {@link #commit()}. */
  private final class Txn {
    private final Map<String, State> staged = new HashMap<>();
    private final List<String> order = new ArrayList<>();
    // Ids put since beginOperation(): at most two (a transfer's accounts).
    private final List<String> touched = new ArrayList<>(2);
    // Created on the first role change: most operations never touch roles.
    private TreeMap<String, Set<Role>> stagedRoles;
    long minted;
    long burned;
    int created;
    // Net change in the number of principals holding a role.
    int principalsAdded;

    State get(String id) {
      State s = staged.get(id);
      return s != null ? s : accounts.get(id);
    }

    Set<Role> roles(String principal) {
      Set<Role> r = stagedRoles == null ? null : stagedRoles.get(principal);
      return r != null ? r : roleTable.roles(principal);
    }

    void setRoles(String principal, Set<Role> next) {
      principalsAdded += (next.isEmpty() ? 0 : 1) - (roles(principal).isEmpty() ? 0 : 1);
      if (stagedRoles == null) {
        stagedRoles = new TreeMap<>();
      }
      stagedRoles.put(principal, next);
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
      if (stagedRoles != null) {
        stagedRoles.forEach(roleTable::put);
        roleChanges++;
      }
      assert totalMinted - totalBurned == totalBalance : "conservation broken";
    }
  }

  private void record(Operation op, ResultCode code, long logIndex, Caller caller) {
    // Records of the entry being applied are never evicted (the table may pass its limit by one
    // entry's operations): the history holds only earlier entries, so an id evicted within its
    // own entry could be applied twice.
    long incoming = DedupeTable.bytesOf(op, caller.principal());
    while ((dedupe.size() >= limits.dedupeMaxEntries() // the limit is at least 1
            || dedupe.bytes() + incoming > limits.dedupeMaxBytes())
        && dedupe.size() > 0
        && dedupe.appliedIndex(dedupe.oldest()) < logIndex) {
      // A retry resends the very same operation, created_at included: make that EXPIRED.
      // (Not recorded_at + skew: under sustained load that bound runs ahead of the ledger's
      // clock, and every new operation was refused as EXPIRED once the table filled.)
      floorMillis = Math.max(floorMillis, dedupe.createdAt(dedupe.oldest()));
      dedupe.evictOldest();
    }
    dedupe.add(op, code, logIndex, nowMillis, caller.principal());
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
          a.getCreateAccount().getAccount().equals(b.getCreateAccount().getAccount())
              && a.getCreateAccount().getOwner().equals(b.getCreateAccount().getOwner());
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
      case GRANT_ROLE ->
          a.getGrantRole().getPrincipal().equals(b.getGrantRole().getPrincipal())
              && a.getGrantRole().getRoleValue() == b.getGrantRole().getRoleValue();
      case REVOKE_ROLE ->
          a.getRevokeRole().getPrincipal().equals(b.getRevokeRole().getPrincipal())
              && a.getRevokeRole().getRoleValue() == b.getRevokeRole().getRoleValue();
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

  /**
   * The roles {@code principal} holds now: an unmodifiable set in role order, empty when it holds
   * none (or is "").
   */
  public Set<Role> roles(String principal) {
    return roleTable.roles(principal);
  }

  /** Whether {@code caller} is an admin now: the bootstrap admin, or a holder of ADMIN. */
  public boolean isAdmin(Caller caller) {
    String p = caller.principal();
    if (!p.isEmpty() && !Rules.isValidPrincipal(p)) {
      return false; // apply denies such a caller everything
    }
    return caller.bootstrapAdmin() || roleTable.roles(p).contains(Role.ADMIN);
  }

  /** How many applied commits have changed the role table: equal counts, equal tables. */
  public long roleChanges() {
    return roleChanges;
  }

  /** Every principal holding at least one role, as an unmodifiable set. O(principals). */
  public Set<String> rolePrincipals() {
    return Set.of(roleTable.principals());
  }

  /** Every principal holding a role, with its roles, sorted by principal. O(principals). */
  public List<RoleGrant> roleGrants() {
    return roleTable.grantsAfter("", Integer.MAX_VALUE);
  }

  /** Up to {@code limit} grants with principal greater than {@code startAfter}, in order. */
  public List<RoleGrant> roleGrantsAfter(String startAfter, int limit) {
    return roleTable.grantsAfter(startAfter, limit);
  }

  /**
   * Where {@code admit} looks for ids that left the dedupe window; set by the state machine on
   * every ledger it builds or restores (not part of the ledger's state or its snapshot).
   */
  public void useHistory(History h) {
    this.history = h == null ? History.NONE : h;
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
        .setPrincipal(dedupe.principal(slot))
        .build();
  }

  /**
   * The heap the dedupe table's records take, as bounded by {@link LedgerLimits#dedupeMaxBytes}.
   */
  public long dedupeBytes() {
    return dedupe.bytes();
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
      if (!s.owner().isEmpty() && !Rules.isValidPrincipal(s.owner())) {
        throw new IllegalStateException("account " + id + " has an invalid owner");
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
    roleTable.checkConsistent();
  }

  private static Account toProto(String id, State s) {
    return Account.newBuilder()
        .setId(id)
        .setBalance(s.balance())
        .setVersion(s.version())
        .setOwner(s.owner())
        .setPublicKey(
            s.signer() == null ? com.google.protobuf.ByteString.EMPTY : s.signer().publicKey())
        .setRequireSignatures(s.signer() != null && s.signer().required())
        .build();
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
            .setRoleCount(roleTable.size())
            .build();
    return new SnapshotCopy(
        header, unsortedIds, states, dedupe.freeze(), roleTable.principals(), roleTable.roleSets());
  }

  /** A point-in-time copy of a ledger (see {@link #snapshotCopy}). */
  public static final class SnapshotCopy {
    private final LedgerSnapshotHeader header;
    private final String[] ids;
    private final State[] states;
    private final DedupeTable.Frozen dedupe;
    private final String[] principals;
    private final List<Set<Role>> roleSets;

    private SnapshotCopy(
        LedgerSnapshotHeader header,
        String[] ids,
        State[] states,
        DedupeTable.Frozen dedupe,
        String[] principals,
        List<Set<Role>> roleSets) {
      this.header = header;
      this.ids = ids;
      this.states = states;
      this.dedupe = dedupe;
      this.principals = principals;
      this.roleSets = roleSets;
    }

    /** Ledger time, floor and totals, and how many role grants, accounts and records follow. */
    public LedgerSnapshotHeader header() {
      return header;
    }

    /** How many principals hold roles. */
    public int roleGrants() {
      return principals.length;
    }

    /** The {@code i}-th principal's roles, in principal order ({@code i < roleGrants()}). */
    public RoleGrant roleGrant(int i) {
      return RoleTable.grant(principals[i], roleSets.get(i));
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

    /**
     * Remembered operation {@code i}'s principal as ASCII bytes, a read-only view (empty: none).
     */
    public java.nio.ByteBuffer rememberedPrincipalBytes(int i) {
      return dedupe.principalBytes(i);
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
   * totals, then every role grant in strictly increasing principal order, then every account in
   * strictly increasing id order, then every remembered operation oldest first. Each call checks
   * what it is given; {@link #finish} checks the whole.
   */
  public static final class Restorer {
    private final Ledger l;
    private String previousPrincipal;
    private String previousId;
    private long lastRecorded = Long.MIN_VALUE;

    public Restorer(LedgerLimits limits, LedgerSnapshotHeader header) {
      l = new Ledger(limits);
      l.nowMillis = header.getNowMillis();
      l.floorMillis = header.getFloorMillis();
      l.totalMinted = header.getTotalMinted();
      l.totalBurned = header.getTotalBurned();
    }

    /**
     * Adds a principal's roles; IllegalArgumentException if the principal is invalid or out of
     * order, or the roles are empty, unknown or repeated.
     */
    public void roleGrant(RoleGrant g) {
      String p = g.getPrincipal();
      if (!Rules.isValidPrincipal(p)
          || (previousPrincipal != null && previousPrincipal.compareTo(p) >= 0)) {
        throw new IllegalArgumentException("role grant '" + p + "' is invalid or out of order");
      }
      Set<Role> roles = EnumSet.noneOf(Role.class);
      for (Role r : g.getRolesList()) {
        if (!Rules.isValidRole(r) || !roles.add(r)) {
          throw new IllegalArgumentException("role grant '" + p + "' has a bad role list");
        }
      }
      if (roles.isEmpty()) {
        throw new IllegalArgumentException("role grant '" + p + "' has no roles");
      }
      l.roleTable.put(p, roles);
      previousPrincipal = p;
    }

    /**
     * Adds an account; IllegalArgumentException if its id is invalid or out of order, or its owner
     * is neither empty nor a valid principal.
     */
    public void account(Account a) {
      if (!Rules.isValidId(a.getId())
          || (previousId != null && previousId.compareTo(a.getId()) >= 0)) {
        throw new IllegalArgumentException(
            "account '" + a.getId() + "' is invalid or out of order");
      }
      String owner = a.getOwner();
      if (!owner.isEmpty() && !Rules.isValidPrincipal(owner)) {
        throw new IllegalArgumentException("account '" + a.getId() + "' has an invalid owner");
      }
      if (a.getRequireSignatures() && a.getPublicKey().isEmpty()) {
        throw new IllegalArgumentException(
            "account '" + a.getId() + "' requires signatures but has no key");
      }
      l.accounts.put(
          a.getId(),
          new State(
              a.getBalance(),
              a.getVersion(),
              l.roleTable.canonical(owner),
              Signer.of(a.getPublicKey(), a.getRequireSignatures())));
      l.ids.add(a.getId());
      l.totalBalance += a.getBalance();
      previousId = a.getId();
    }

    /**
     * Adds a remembered operation; IllegalArgumentException if invalid, repeated or out of order.
     */
    public void remembered(DedupeRecord r) {
      String id = r.getOperation().getId();
      String principal = r.getPrincipal();
      if (!Rules.isValidId(id)
          || (!principal.isEmpty() && !Rules.isValidPrincipal(principal))
          || l.dedupe.find(id) >= 0
          || r.getRecordedAtMillis() < lastRecorded) {
        throw new IllegalArgumentException(
            "dedupe record '" + id + "' is invalid, repeated or out of order");
      }
      l.dedupe.add(
          r.getOperation(), r.getCode(), r.getAppliedIndex(), r.getRecordedAtMillis(), principal);
      lastRecorded = r.getRecordedAtMillis();
    }

    /** The ledger, once its invariants hold; IllegalStateException naming what is wrong. */
    public Ledger finish() {
      l.checkInvariants();
      return l;
    }
  }
}
