package io.cairn.proto.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.proto.Burn;
import io.cairn.proto.CreateAccount;
import io.cairn.proto.GrantRole;
import io.cairn.proto.Mint;
import io.cairn.proto.Operation;
import io.cairn.proto.ResultCode;
import io.cairn.proto.RevokeRole;
import io.cairn.proto.Role;
import io.cairn.proto.Transfer;
import org.junit.jupiter.api.Test;

class RulesTest {
  private static Operation.Builder op() {
    return Operation.newBuilder().setId("op-1").setCreatedAtMillis(1);
  }

  @Test
  void idsAreOneToSixtyFourCharactersOfTheSafeSet() {
    assertTrue(Rules.isValidId("a"));
    assertTrue(Rules.isValidId("A-z_0.9:x"));
    assertTrue(Rules.isValidId("x".repeat(64)));
    assertFalse(Rules.isValidId(""));
    assertFalse(Rules.isValidId(null));
    assertFalse(Rules.isValidId("x".repeat(65)));
    assertFalse(Rules.isValidId("a b"));
    assertFalse(Rules.isValidId("é"));
  }

  @Test
  void aWellFormedOperationBreaksNoRule() {
    assertNull(Rules.check(op().setMint(Mint.newBuilder().setAccount("a").setAmount(1)).build()));
    assertNull(
        Rules.check(
            op().setTransfer(Transfer.newBuilder().setFrom("a").setTo("b").setAmount(1)).build()));
  }

  @Test
  void eachRuleNamesItsFieldAndTheLedgersCode() {
    assertViolation(
        Operation.newBuilder().setId("bad id").setCreatedAtMillis(1).build(),
        "id",
        ResultCode.INVALID_OPERATION_ID);
    assertViolation(
        Operation.newBuilder().setId("x").setMint(Mint.newBuilder().setAccount("a")).build(),
        "created_at_millis",
        ResultCode.EXPIRED);
    assertViolation(op().build(), "kind", ResultCode.INVALID_OPERATION);
    assertViolation(
        op().setCreateAccount(CreateAccount.newBuilder().setAccount("")).build(),
        "create_account.account",
        ResultCode.INVALID_ACCOUNT_ID);
    assertViolation(
        op().setBurn(Burn.newBuilder().setAccount("a")).build(),
        "burn.amount",
        ResultCode.INVALID_AMOUNT);
    assertViolation(
        op().setTransfer(Transfer.newBuilder().setFrom("a").setTo("a").setAmount(1)).build(),
        "transfer.to",
        ResultCode.SAME_ACCOUNT);
    assertViolation(
        op().setTransfer(Transfer.newBuilder().setFrom("a!").setTo("a!").setAmount(0)).build(),
        "transfer.from",
        ResultCode.INVALID_ACCOUNT_ID);
  }

  @Test
  void principalsFollowTheIdRuleAndEmptyIsNone() {
    assertTrue(Rules.isValidPrincipal("alice"));
    assertTrue(Rules.isValidPrincipal("svc:payments.eu-1"));
    assertFalse(Rules.isValidPrincipal(""));
    assertFalse(Rules.isValidPrincipal("CN=alice, O=x"));
    assertFalse(Rules.isValidPrincipal("x".repeat(65)));
  }

  @Test
  void roleOperationsNeedAPrincipalAndARealRole() {
    assertNull(
        Rules.check(
            op().setGrantRole(GrantRole.newBuilder().setPrincipal("bob").setRole(Role.ISSUER))
                .build()));
    assertViolation(
        op().setGrantRole(GrantRole.newBuilder().setPrincipal("").setRole(Role.ADMIN)).build(),
        "grant_role.principal",
        ResultCode.INVALID_ROLE);
    assertViolation(
        op().setGrantRole(GrantRole.newBuilder().setPrincipal("bob")).build(),
        "grant_role.role",
        ResultCode.INVALID_ROLE);
    assertViolation(
        op().setRevokeRole(RevokeRole.newBuilder().setPrincipal("bob").setRoleValue(99)).build(),
        "revoke_role.role",
        ResultCode.INVALID_ROLE);
    assertViolation(
        op().setRevokeRole(RevokeRole.newBuilder().setPrincipal("b b").setRole(Role.MEMBER))
            .build(),
        "revoke_role.principal",
        ResultCode.INVALID_ROLE);
  }

  @Test
  void anOwnerIsEmptyOrAPrincipal() {
    assertNull(
        Rules.check(op().setCreateAccount(CreateAccount.newBuilder().setAccount("a")).build()));
    assertNull(
        Rules.check(
            op().setCreateAccount(CreateAccount.newBuilder().setAccount("a").setOwner("bob"))
                .build()));
    assertViolation(
        op().setCreateAccount(CreateAccount.newBuilder().setAccount("a").setOwner("bob smith"))
            .build(),
        "create_account.owner",
        ResultCode.INVALID_ACCOUNT_ID);
  }

  private static void assertViolation(Operation op, String field, ResultCode code) {
    Rules.Violation v = Rules.check(op);
    assertEquals(field, v == null ? null : v.field(), String.valueOf(v));
    assertEquals(code, v.code());
  }
}
