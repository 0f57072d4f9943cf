package io.cairn.node.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
 * batches, clock jumps and tiny dedupe and role limits (so eviction happens all the time), sent by
 * random callers: the bootstrap admin in about half the requests, else principals with and without
 * roles, which the operations grant and revoke as they go.
 */
class LedgerPropertiesTest {
  static final String[] ACCOUNTS = {"a0", "a1", "a2", "a3", "a4"};
  static final String[] PRINCIPALS = {"p0", "p1", "p2", "p3", "p4"};
  static final Caller[] CALLERS = {
    new Caller("root", true),
    new Caller("", true),
    new Caller("p0", false),
    new Caller("p1", false),
    new Caller("p2", false),
    new Caller("p3", false),
    new Caller("p4", false),
  };
  static final long T0 = 1_700_000_000_000L;

  /** One step: a request (1-4 ops) applied at a time offset by one of {@link #CALLERS}. */
  record Step(long timeDelta, boolean atomic, int caller, List<Operation> ops) {}

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
                Arbitraries.integers().between(0, 11),
                id,
                account,
                account,
                amount,
                createdSkew,
                Arbitraries.integers().between(0, 7),
                Arbitraries.integers().between(0, 3))
            .as(
                (kind, opId, x, y, amt, skew, who, role) -> {
                  Operation.Builder b = Operation.newBuilder().setId(opId).setCreatedAtMillis(skew);
                  // Owners: the submitter (""), or one of the principals.
                  String owner = who < 3 ? "" : PRINCIPALS[who - 3];
                  String principal = PRINCIPALS[who % PRINCIPALS.length];
                  switch (kind) {
                    case 0, 1 -> b.getCreateAccountBuilder().setAccount(x).setOwner(owner);
                    case 2, 3 -> b.getMintBuilder().setAccount(x).setAmount(amt);
                    case 4 -> b.getBurnBuilder().setAccount(x).setAmount(amt);
                    case 10 -> b.getGrantRoleBuilder().setPrincipal(principal).setRoleValue(role);
                    case 11 -> b.getRevokeRoleBuilder().setPrincipal(principal).setRoleValue(role);
                    default -> b.getTransferBuilder().setFrom(x).setTo(y).setAmount(amt);
                  }
                  return b.build();
                });
    Arbitrary<Step> step =
        Combinators.combine(
                Arbitraries.longs().between(-500, 2_500),
                Arbitraries.integers().between(0, 4).map(i -> i == 0),
                Arbitraries.integers().between(0, 8).map(i -> i < 4 ? i % 2 : i - 2),
                op.list().ofMinSize(1).ofMaxSize(4))
            .as(Step::new);
    return step.list().ofMinSize(1).ofMaxSize(60);
  }

  static final LedgerLimits TINY =
      new LedgerLimits(4_000, 12, 1_000, 4, 3, 1_500); // bytes: about 8 small records

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
      List<OpResult> r = l.apply(clock, ++index, CALLERS[s.caller()], ops, s.atomic());
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
        case GRANT_ROLE, REVOKE_ROLE -> {} // no balance changes
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
    for (long i = 0; i < h.getRoleCount(); i++) {
      io.cairn.proto.RoleGrant.parseDelimitedFrom(in).writeDelimitedTo(again);
    }
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

  /**
   * Every result agrees with a naive model of who may do what (the rules of Ledger's class comment,
   * written again from scratch): nothing new is applied, or fails on state, for a caller the model
   * denies, and nothing the model allows is PERMISSION_DENIED. The model follows roles and owners
   * from the operations reported applied; an atomic batch is judged against its own staged model.
   */
  @Property(tries = 300)
  void everyResultAgreesWithANaiveModelOfPermissions(@ForAll("steps") List<Step> steps) {
    Ledger l = new Ledger(TINY);
    PermissionModel model = new PermissionModel();
    long clock = T0;
    long index = 0;
    for (Step s : steps) {
      clock += s.timeDelta();
      List<Operation> ops = new ArrayList<>();
      for (Operation o : s.ops()) {
        ops.add(o.toBuilder().setCreatedAtMillis(clock + o.getCreatedAtMillis()).build());
      }
      Caller caller = CALLERS[s.caller()];
      List<OpResult> r = l.apply(clock, ++index, caller, ops, s.atomic());
      PermissionModel staged = s.atomic() ? model.copy() : model;
      boolean failed = false;
      for (int i = 0; i < ops.size() && !failed; i++) {
        OpResult res = r.get(i);
        if (res.replayed()) {
          continue;
        }
        // In a batch that failed, the operations before the failure report ROLLED_BACK but
        // were executed (and so allowed); the first other code is the failure.
        boolean executedOk =
            res.code() == ResultCode.OK || (s.atomic() && res.code() == ResultCode.ROLLED_BACK);
        failed = s.atomic() && !executedOk;
        ResultCode code = executedOk ? ResultCode.OK : res.code();
        if (code == ResultCode.PERMISSION_DENIED) {
          assertFalse(staged.allows(caller, ops.get(i)), "denied but allowed: " + ops.get(i));
        } else if (!PermissionModel.BEFORE_PERMISSION.contains(code)) {
          assertTrue(staged.allows(caller, ops.get(i)), code + " for a denied " + ops.get(i));
        }
        if (code == ResultCode.OK) {
          staged.apply(caller, ops.get(i));
        }
      }
      if (s.atomic() && !failed) {
        model = staged;
      }
      for (String p : PRINCIPALS) {
        assertEquals(model.roles(p), l.roles(p), "roles of " + p);
      }
    }
    l.checkInvariants();
  }

  /** Roles and owners as plain maps, and the permission rules written out naively. */
  static final class PermissionModel {
    /** Codes decided before permission is looked at: they say nothing about it. */
    static final java.util.Set<ResultCode> BEFORE_PERMISSION =
        java.util.EnumSet.of(
            ResultCode.INVALID_OPERATION_ID,
            ResultCode.DUPLICATE_ID,
            ResultCode.TIMESTAMP_IN_FUTURE,
            ResultCode.EXPIRED,
            ResultCode.INVALID_ACCOUNT_ID,
            ResultCode.INVALID_AMOUNT,
            ResultCode.SAME_ACCOUNT,
            ResultCode.INVALID_ROLE,
            ResultCode.INVALID_OPERATION);

    final Map<String, java.util.Set<io.cairn.proto.Role>> roles = new HashMap<>();
    final Map<String, String> owners = new HashMap<>();

    PermissionModel copy() {
      PermissionModel c = new PermissionModel();
      roles.forEach((p, r) -> c.roles.put(p, java.util.EnumSet.copyOf(r)));
      c.owners.putAll(owners);
      return c;
    }

    java.util.Set<io.cairn.proto.Role> roles(String p) {
      return roles.getOrDefault(p, java.util.Set.of());
    }

    boolean allows(Caller c, Operation op) {
      var held = roles(c.principal());
      if (c.bootstrapAdmin() || held.contains(io.cairn.proto.Role.ADMIN)) {
        return true;
      }
      return switch (op.getKindCase()) {
        case CREATE_ACCOUNT, MINT, BURN -> held.contains(io.cairn.proto.Role.ISSUER);
        case TRANSFER -> {
          String from = op.getTransfer().getFrom();
          yield !held.isEmpty()
              && (!owners.containsKey(from) || owners.get(from).equals(c.principal()));
        }
        default -> false;
      };
    }

    void apply(Caller c, Operation op) {
      switch (op.getKindCase()) {
        case CREATE_ACCOUNT -> {
          String owner = op.getCreateAccount().getOwner();
          owners.put(op.getCreateAccount().getAccount(), owner.isEmpty() ? c.principal() : owner);
        }
        case GRANT_ROLE ->
            roles
                .computeIfAbsent(
                    op.getGrantRole().getPrincipal(),
                    p -> java.util.EnumSet.noneOf(io.cairn.proto.Role.class))
                .add(op.getGrantRole().getRole());
        case REVOKE_ROLE -> {
          var held = roles.get(op.getRevokeRole().getPrincipal());
          if (held != null) {
            held.remove(op.getRevokeRole().getRole());
            if (held.isEmpty()) {
              roles.remove(op.getRevokeRole().getPrincipal());
            }
          }
        }
        default -> {}
      }
    }
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
