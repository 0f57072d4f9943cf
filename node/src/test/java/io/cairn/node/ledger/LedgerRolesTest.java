package io.cairn.node.ledger;

import static io.cairn.node.ledger.LedgerTest.LIMITS;
import static io.cairn.node.ledger.LedgerTest.T0;
import static io.cairn.node.ledger.LedgerTest.burn;
import static io.cairn.node.ledger.LedgerTest.create;
import static io.cairn.node.ledger.LedgerTest.mint;
import static io.cairn.node.ledger.LedgerTest.transfer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.node.raft.LedgerSnapshotCodec;
import io.cairn.proto.CreateAccount;
import io.cairn.proto.GrantRole;
import io.cairn.proto.Operation;
import io.cairn.proto.ResultCode;
import io.cairn.proto.RevokeRole;
import io.cairn.proto.Role;
import io.cairn.proto.RoleGrant;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Roles and owners, decided at apply: one rule of the Ledger's class comment per test. */
class LedgerRolesTest {
  static final Caller ROOT = new Caller("root", true);
  static final Caller ANN = new Caller("ann", false); // granted ADMIN
  static final Caller IVY = new Caller("ivy", false); // ISSUER
  static final Caller MO = new Caller("mo", false); // MEMBER, owns mo-acct
  static final Caller MAX = new Caller("max", false); // MEMBER, owns max-acct
  static final Caller NOBODY = new Caller("nobody", false); // no role, owns nobody-acct

  private long index = 100;

  static Operation grant(String id, String principal, Role role) {
    return Operation.newBuilder()
        .setId(id)
        .setCreatedAtMillis(T0)
        .setGrantRole(GrantRole.newBuilder().setPrincipal(principal).setRole(role))
        .build();
  }

  static Operation revoke(String id, String principal, Role role) {
    return Operation.newBuilder()
        .setId(id)
        .setCreatedAtMillis(T0)
        .setRevokeRole(RevokeRole.newBuilder().setPrincipal(principal).setRole(role))
        .build();
  }

  static Operation createOwned(String id, String account, String owner) {
    return Operation.newBuilder()
        .setId(id)
        .setCreatedAtMillis(T0)
        .setCreateAccount(CreateAccount.newBuilder().setAccount(account).setOwner(owner))
        .build();
  }

  OpResult as(Ledger l, Caller c, Operation op) {
    return l.apply(T0, ++index, c, List.of(op), false).get(0);
  }

  ResultCode code(Ledger l, Caller c, Operation op) {
    return as(l, c, op).code();
  }

  List<OpResult> atomicAs(Ledger l, Caller c, Operation... ops) {
    return l.apply(T0, ++index, c, List.of(ops), true);
  }

  /** The cast above, each account funded with 100. */
  Ledger cast() {
    Ledger l = new Ledger(LIMITS);
    for (Operation op :
        List.of(
            grant("g1", "ann", Role.ADMIN),
            grant("g2", "ivy", Role.ISSUER),
            grant("g3", "mo", Role.MEMBER),
            grant("g4", "max", Role.MEMBER),
            createOwned("c1", "mo-acct", "mo"),
            createOwned("c2", "max-acct", "max"),
            createOwned("c3", "nobody-acct", "nobody"),
            create("c4", "treasury", T0),
            mint("m1", "mo-acct", 100, T0),
            mint("m2", "max-acct", 100, T0),
            mint("m3", "nobody-acct", 100, T0),
            mint("m4", "treasury", 100, T0))) {
      assertEquals(ResultCode.OK, code(l, ROOT, op), op.getId());
    }
    return l;
  }

  static long balance(Ledger l, String id) {
    return l.account(id).orElseThrow().getBalance();
  }

  @Test
  void theBootstrapAdminMayDoEverythingWithoutHoldingARole() {
    Ledger l = cast();
    assertEquals(Set.of(), l.roles("root"));
    assertTrue(l.isAdmin(ROOT));
    assertEquals(ResultCode.OK, code(l, ROOT, create("a1", "x", T0)));
    assertEquals(ResultCode.OK, code(l, ROOT, mint("a2", "x", 5, T0)));
    assertEquals(ResultCode.OK, code(l, ROOT, burn("a3", "x", 1, T0)));
    assertEquals(ResultCode.OK, code(l, ROOT, transfer("a4", "mo-acct", "x", 1, T0)));
    assertEquals(ResultCode.OK, code(l, ROOT, grant("a5", "zed", Role.ISSUER)));
    assertEquals(ResultCode.OK, code(l, ROOT, revoke("a6", "zed", Role.ISSUER)));
    assertEquals(Set.of(), l.roles("zed"));
  }

  @Test
  void aGrantedAdminMayDoEverythingToo() {
    Ledger l = cast();
    assertTrue(l.isAdmin(ANN));
    assertEquals(ResultCode.OK, code(l, ANN, create("a1", "x", T0)));
    assertEquals(ResultCode.OK, code(l, ANN, transfer("a2", "max-acct", "x", 1, T0)));
    assertEquals(ResultCode.OK, code(l, ANN, grant("a3", "zed", Role.MEMBER)));
    assertEquals(Set.of(Role.MEMBER), l.roles("zed"));
  }

  @Test
  void aMemberCannotCreateMintBurnOrChangeRoles() {
    Ledger l = cast();
    assertFalse(l.isAdmin(MO));
    assertEquals(ResultCode.PERMISSION_DENIED, code(l, MO, create("d1", "mine", T0)));
    assertEquals(ResultCode.PERMISSION_DENIED, code(l, MO, mint("d2", "mo-acct", 1, T0)));
    assertEquals(ResultCode.PERMISSION_DENIED, code(l, MO, burn("d3", "mo-acct", 1, T0)));
    assertEquals(ResultCode.PERMISSION_DENIED, code(l, MO, grant("d4", "mo", Role.ADMIN)));
    assertEquals(ResultCode.PERMISSION_DENIED, code(l, MO, revoke("d5", "max", Role.MEMBER)));
    assertFalse(l.account("mine").isPresent());
    assertEquals(100, balance(l, "mo-acct"));
    assertEquals(Set.of(Role.MEMBER), l.roles("max"));
  }

  @Test
  void aMemberTransfersOnlyFromAccountsItOwns() {
    Ledger l = cast();
    assertEquals(ResultCode.OK, code(l, MO, transfer("t1", "mo-acct", "max-acct", 10, T0)));
    assertEquals(
        ResultCode.PERMISSION_DENIED, code(l, MO, transfer("t2", "max-acct", "mo-acct", 10, T0)));
    assertEquals(
        ResultCode.PERMISSION_DENIED, code(l, MO, transfer("t3", "treasury", "mo-acct", 10, T0)));
    assertEquals(90, balance(l, "mo-acct"));
    assertEquals(110, balance(l, "max-acct"));
    assertEquals(100, balance(l, "treasury"));
  }

  @Test
  void aCallerWithoutARoleIsDeniedEvenFromItsOwnAccount() {
    Ledger l = cast();
    assertEquals(
        ResultCode.PERMISSION_DENIED,
        code(l, NOBODY, transfer("t1", "nobody-acct", "mo-acct", 1, T0)));
    assertEquals(
        ResultCode.PERMISSION_DENIED, code(l, NOBODY, transfer("t2", "ghost", "mo-acct", 1, T0)));
    assertEquals(
        ResultCode.PERMISSION_DENIED,
        code(l, new Caller("", false), transfer("t3", "treasury", "mo-acct", 1, T0)));
    assertEquals(100, balance(l, "nobody-acct"));
  }

  @Test
  void aMissingSourceIsStillNoSuchAccountForARoleHolder() {
    Ledger l = cast();
    assertEquals(
        ResultCode.NO_SUCH_ACCOUNT, code(l, MO, transfer("t1", "ghost", "mo-acct", 1, T0)));
    assertEquals(
        ResultCode.NO_SUCH_ACCOUNT, code(l, MO, transfer("t2", "mo-acct", "ghost", 1, T0)));
    // State checks come after permission: someone else's overdrawn account is still denied.
    assertEquals(
        ResultCode.PERMISSION_DENIED, code(l, MO, transfer("t3", "max-acct", "mo-acct", 999, T0)));
    assertEquals(
        ResultCode.INSUFFICIENT_FUNDS, code(l, MO, transfer("t4", "mo-acct", "max-acct", 999, T0)));
  }

  @Test
  void anIssuerCreatesMintsAndBurnsButCannotGrant() {
    Ledger l = cast();
    assertEquals(ResultCode.OK, code(l, IVY, create("i1", "new", T0)));
    assertEquals(ResultCode.OK, code(l, IVY, mint("i2", "mo-acct", 5, T0)));
    assertEquals(ResultCode.OK, code(l, IVY, burn("i3", "max-acct", 5, T0)));
    assertEquals(ResultCode.PERMISSION_DENIED, code(l, IVY, grant("i4", "ivy", Role.ADMIN)));
    assertEquals(ResultCode.PERMISSION_DENIED, code(l, IVY, revoke("i5", "mo", Role.MEMBER)));
    assertEquals(
        ResultCode.PERMISSION_DENIED, code(l, IVY, transfer("i6", "mo-acct", "new", 1, T0)));
    // An issuer holds a role, so it may move tokens out of an account it owns.
    assertEquals(ResultCode.OK, code(l, IVY, mint("i7", "new", 5, T0)));
    assertEquals(ResultCode.OK, code(l, IVY, transfer("i8", "new", "mo-acct", 1, T0)));
  }

  @Test
  void theOwnerIsTheSubmitterUnlessOneIsNamed() {
    Ledger l = cast();
    code(l, IVY, create("o1", "ivys", T0));
    code(l, IVY, createOwned("o2", "for-mo", "mo"));
    code(l, ROOT, create("o3", "roots", T0));
    code(l, new Caller("", true), create("o4", "nobodys", T0));
    assertEquals("ivy", l.account("ivys").orElseThrow().getOwner());
    assertEquals("mo", l.account("for-mo").orElseThrow().getOwner());
    assertEquals("root", l.account("roots").orElseThrow().getOwner());
    assertEquals("", l.account("nobodys").orElseThrow().getOwner());
    code(l, IVY, mint("o5", "for-mo", 10, T0));
    assertEquals(ResultCode.OK, code(l, MO, transfer("o6", "for-mo", "mo-acct", 10, T0)));
  }

  @Test
  void aRevocationTakesEffectOnTheNextApply() {
    Ledger l = cast();
    assertEquals(ResultCode.OK, code(l, MO, transfer("t1", "mo-acct", "max-acct", 1, T0)));
    assertEquals(ResultCode.OK, code(l, ROOT, revoke("r1", "mo", Role.MEMBER)));
    assertEquals(Set.of(), l.roles("mo"));
    assertEquals(
        ResultCode.PERMISSION_DENIED, code(l, MO, transfer("t2", "mo-acct", "max-acct", 1, T0)));
    assertEquals(ResultCode.OK, code(l, ROOT, revoke("r2", "ann", Role.ADMIN)));
    assertFalse(l.isAdmin(ANN));
    assertEquals(ResultCode.PERMISSION_DENIED, code(l, ANN, create("a1", "x", T0)));
  }

  @Test
  void grantingAHeldRoleOrRevokingAnUnheldOneIsOkAndChangesNothing() {
    Ledger l = cast();
    List<RoleGrant> before = l.roleGrants();
    assertEquals(ResultCode.OK, code(l, ROOT, grant("g9", "mo", Role.MEMBER)));
    assertEquals(ResultCode.OK, code(l, ROOT, revoke("r9", "mo", Role.ISSUER)));
    assertEquals(ResultCode.OK, code(l, ROOT, revoke("r10", "stranger", Role.ADMIN)));
    assertEquals(before, l.roleGrants());
  }

  @Test
  void aPrincipalMayHoldSeveralRolesReadAsSortedImmutableCopies() {
    Ledger l = cast();
    code(l, ROOT, grant("g9", "mo", Role.ISSUER));
    Set<Role> roles = l.roles("mo");
    assertEquals(EnumSet.of(Role.ISSUER, Role.MEMBER), roles);
    assertEquals(List.of(Role.ISSUER, Role.MEMBER), List.copyOf(roles));
    assertThrows(UnsupportedOperationException.class, () -> roles.add(Role.ADMIN));
    assertEquals(
        List.of("ann", "ivy", "max", "mo"),
        l.roleGrants().stream().map(RoleGrant::getPrincipal).toList());
    assertEquals(List.of(Role.ISSUER, Role.MEMBER), l.roleGrants().get(3).getRolesList());
    assertEquals(
        List.of("max", "mo"),
        l.roleGrantsAfter("ivy", 10).stream().map(RoleGrant::getPrincipal).toList());
    assertEquals(1, l.roleGrantsAfter("", 1).size());
    // Now an issuer as well as a member: mints, and still transfers from its own account.
    assertEquals(ResultCode.OK, code(l, MO, mint("m9", "mo-acct", 1, T0)));
    assertEquals(ResultCode.OK, code(l, MO, transfer("t9", "mo-acct", "max-acct", 1, T0)));
  }

  @Test
  void badRoleOperationsAreInvalidRoleAndRecorded() {
    Ledger l = cast();
    assertEquals(ResultCode.INVALID_ROLE, code(l, ROOT, grant("b1", "mo", Role.ROLE_UNSPECIFIED)));
    assertEquals(ResultCode.INVALID_ROLE, code(l, ROOT, grant("b2", "two words", Role.MEMBER)));
    assertEquals(ResultCode.INVALID_ROLE, l.operation("b1").orElseThrow().getCode());
    // Syntax comes before permission: a member's malformed grant is INVALID_ROLE too.
    assertEquals(ResultCode.INVALID_ROLE, code(l, MO, grant("b3", "", Role.MEMBER)));
  }

  @Test
  void aDeniedOperationChangesNothingAndItsIdKeepsTheDenial() throws IOException {
    Ledger l = cast();
    LedgerTotals totals = l.totals();
    var max = l.account("max-acct").orElseThrow();
    OpResult denied = as(l, MO, transfer("t1", "max-acct", "mo-acct", 10, T0));
    assertEquals(new OpResult("t1", ResultCode.PERMISSION_DENIED, false, index), denied);
    assertEquals(max, l.account("max-acct").orElseThrow());
    assertEquals(totals.totalBalance(), l.totals().totalBalance());
    assertEquals(totals.dedupeEntries() + 1, l.totals().dedupeEntries());
    var remembered = l.operation("t1").orElseThrow();
    assertEquals(ResultCode.PERMISSION_DENIED, remembered.getCode());
    assertEquals("mo", remembered.getPrincipal());
    // A retry gets the same answer, whoever sends it and whatever roles changed since.
    code(l, ROOT, grant("g9", "mo", Role.ADMIN));
    OpResult retried = as(l, MO, transfer("t1", "max-acct", "mo-acct", 10, T0));
    assertEquals(
        new OpResult("t1", ResultCode.PERMISSION_DENIED, true, denied.appliedIndex()), retried);
    assertEquals(
        ResultCode.PERMISSION_DENIED, code(l, ROOT, transfer("t1", "max-acct", "mo-acct", 10, T0)));
    assertEquals(100, balance(l, "max-acct"));
    l.checkInvariants();
  }

  @Test
  void aReplayReturnsTheStoredResultWhoeverSendsItAndChangesNothing() {
    Ledger l = cast();
    Operation t = transfer("t1", "treasury", "mo-acct", 10, T0);
    assertEquals(ResultCode.OK, code(l, ROOT, t));
    OpResult byMember = as(l, MO, t);
    OpResult byNobody = as(l, NOBODY, t);
    assertTrue(byMember.replayed() && byNobody.replayed());
    assertEquals(ResultCode.OK, byMember.code());
    assertEquals(ResultCode.OK, byNobody.code());
    assertEquals(90, balance(l, "treasury"));
    assertEquals("root", l.operation("t1").orElseThrow().getPrincipal());
  }

  @Test
  void aDeniedOperationFailsItsAtomicBatch() {
    Ledger l = cast();
    List<OpResult> r =
        atomicAs(
            l,
            IVY,
            create("x1", "batch", T0),
            mint("x2", "batch", 50, T0),
            grant("x3", "ivy", Role.ADMIN),
            mint("x4", "batch", 50, T0));
    assertEquals(
        List.of(
            ResultCode.ROLLED_BACK,
            ResultCode.ROLLED_BACK,
            ResultCode.PERMISSION_DENIED,
            ResultCode.ROLLED_BACK),
        r.stream().map(OpResult::code).toList());
    assertFalse(l.account("batch").isPresent());
    assertEquals(Set.of(Role.ISSUER), l.roles("ivy"));
    assertEquals(List.of(List.of(), List.of(), List.of(), List.of()), l.lastOperationChanges());
  }

  @Test
  void anAtomicBatchSeesItsOwnRoleChanges() {
    Ledger l = cast();
    // Ann gives up ADMIN first: the mint after it is judged without it, and the batch fails.
    List<OpResult> r =
        atomicAs(l, ANN, revoke("x1", "ann", Role.ADMIN), mint("x2", "treasury", 1, T0));
    assertEquals(ResultCode.ROLLED_BACK, r.get(0).code());
    assertEquals(ResultCode.PERMISSION_DENIED, r.get(1).code());
    assertTrue(l.isAdmin(ANN), "a failed batch changes no role");
    // Ann makes herself an issuer, then gives up ADMIN, then mints as an issuer: all commit.
    List<OpResult> ok =
        atomicAs(
            l,
            ANN,
            grant("y1", "ann", Role.ISSUER),
            revoke("y2", "ann", Role.ADMIN),
            mint("y3", "treasury", 1, T0));
    assertEquals(
        List.of(ResultCode.OK, ResultCode.OK, ResultCode.OK),
        ok.stream().map(OpResult::code).toList());
    assertEquals(Set.of(Role.ISSUER), l.roles("ann"));
    assertEquals(101, balance(l, "treasury"));
  }

  @Test
  void theNumberOfPrincipalsWithRolesIsBounded() {
    Ledger l =
        new Ledger(
            new LedgerLimits(60_000, 1000, 5_000, 100, 2, LedgerLimits.DEFAULT_DEDUPE_MAX_BYTES));
    assertEquals(ResultCode.OK, code(l, ROOT, grant("g1", "a", Role.MEMBER)));
    assertEquals(ResultCode.OK, code(l, ROOT, grant("g2", "b", Role.MEMBER)));
    assertEquals(ResultCode.ROLE_LIMIT_REACHED, code(l, ROOT, grant("g3", "c", Role.MEMBER)));
    assertEquals(ResultCode.OK, code(l, ROOT, grant("g4", "a", Role.ISSUER)), "not a new one");
    // Within a batch, a principal leaving the table makes room for another.
    List<OpResult> r =
        atomicAs(l, ROOT, revoke("x1", "b", Role.MEMBER), grant("x2", "c", Role.MEMBER));
    assertEquals(ResultCode.OK, r.get(1).code());
    assertEquals(List.of("a", "c"), l.roleGrants().stream().map(RoleGrant::getPrincipal).toList());
    List<OpResult> over =
        atomicAs(l, ROOT, grant("y1", "d", Role.MEMBER), revoke("y2", "a", Role.MEMBER));
    assertEquals(ResultCode.ROLE_LIMIT_REACHED, over.get(0).code());
  }

  @Test
  void aCallerWithAnInvalidPrincipalIsDeniedEverythingAndNothingIsRecorded() {
    Ledger l = cast();
    Caller bad = new Caller("CN=mallory, O=evil", true);
    assertFalse(l.isAdmin(bad));
    List<OpResult> r =
        l.apply(
            T0, ++index, bad, List.of(create("e1", "x", T0), grant("e2", "x", Role.ADMIN)), false);
    assertEquals(
        List.of(
            new OpResult("e1", ResultCode.PERMISSION_DENIED, false, 0),
            new OpResult("e2", ResultCode.PERMISSION_DENIED, false, 0)),
        r);
    assertFalse(l.operation("e1").isPresent());
    assertFalse(l.account("x").isPresent());
  }

  @Test
  void theSameIdWithAnotherOwnerIsAnotherOperation() {
    Ledger l = cast();
    assertEquals(ResultCode.OK, code(l, ROOT, createOwned("c9", "acct9", "mo")));
    assertEquals(ResultCode.DUPLICATE_ID, code(l, ROOT, createOwned("c9", "acct9", "max")));
    assertEquals(ResultCode.DUPLICATE_ID, code(l, ROOT, grant("g1", "ann", Role.ISSUER)));
  }

  @Test
  void rolesOwnersAndPrincipalsSurviveASnapshot() throws IOException {
    Ledger l = cast();
    as(l, MO, transfer("t1", "max-acct", "mo-acct", 1, T0)); // denied, remembered as mo's
    byte[] bytes = snapshot(l);
    Ledger restored = LedgerSnapshotCodec.read(new ByteArrayInputStream(bytes), LIMITS);
    assertArrayEquals(bytes, snapshot(restored));
    assertEquals(l.roleGrants(), restored.roleGrants());
    assertEquals(Set.of(Role.MEMBER), restored.roles("mo"));
    assertEquals("max", restored.account("max-acct").orElseThrow().getOwner());
    assertEquals(l.accountsAfter("", 100), restored.accountsAfter("", 100));
    assertEquals("mo", restored.operation("t1").orElseThrow().getPrincipal());
    assertEquals("root", restored.operation("g1").orElseThrow().getPrincipal());
    // And it decides as the original does (at the same indexes).
    long start = index;
    for (Ledger x : List.of(l, restored)) {
      index = start;
      assertEquals(ResultCode.OK, code(x, MO, transfer("t2", "mo-acct", "max-acct", 1, T0)));
      assertEquals(
          ResultCode.PERMISSION_DENIED, code(x, MO, transfer("t3", "max-acct", "mo-acct", 1, T0)));
      assertEquals(ResultCode.OK, code(x, IVY, mint("m9", "mo-acct", 1, T0)));
    }
    assertArrayEquals(snapshot(l), snapshot(restored));
  }

  static byte[] snapshot(Ledger l) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LedgerSnapshotCodec.write(l.snapshotCopy(), out);
    return out.toByteArray();
  }
}
