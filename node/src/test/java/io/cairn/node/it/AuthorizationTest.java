package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.CairnException;
import io.cairn.client.Ops;
import io.cairn.proto.ErrorDetail;
import io.cairn.proto.GetTransferResponse;
import io.cairn.proto.LedgerSummary;
import io.cairn.proto.ResultCode;
import io.cairn.proto.Role;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Roles and owners, tried through the real door: each principal has its own client certificate of
 * the cluster's CA, and every refusal is checked by reading the state back.
 */
class AuthorizationTest {
  @TempDir static Path data;
  static LocalCluster cluster;
  static CairnClient admin;
  static CairnClient alice; // member, owns "alice-acct"
  static CairnClient carol; // issuer
  static CairnClient nobody; // a certificate, no role

  @BeforeAll
  static void start() throws Exception {
    cluster = new LocalCluster("authorization", 3, data, Map.of()).start();
    admin = cluster.clientBuilder().totalTimeout(Duration.ofSeconds(20)).build();
    alice = cluster.clientBuilder("alice").totalTimeout(Duration.ofSeconds(20)).build();
    carol = cluster.clientBuilder("carol").totalTimeout(Duration.ofSeconds(20)).build();
    nobody = cluster.clientBuilder("nobody").totalTimeout(Duration.ofSeconds(20)).build();
    assertEquals(ResultCode.OK, admin.grantRole("alice", Role.MEMBER).getCode());
    assertEquals(ResultCode.OK, admin.grantRole("carol", Role.ISSUER).getCode());
    assertEquals(ResultCode.OK, admin.createAccount("alice-acct", "alice").getCode());
    assertEquals(ResultCode.OK, admin.createAccount("bank").getCode());
    assertEquals(ResultCode.OK, admin.mint("alice-acct", 100).getCode());
    assertEquals(ResultCode.OK, admin.mint("bank", 1000).getCode());
  }

  @AfterAll
  static void stop() {
    for (CairnClient c : new CairnClient[] {admin, alice, carol, nobody}) {
      if (c != null) {
        c.close();
      }
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private static long balance(String account) {
    return admin.getAccount(account).getAccount().getBalance();
  }

  private static Status.Code permissionRefusal(Runnable call) {
    CairnException e = assertThrows(CairnException.class, call::run);
    assertEquals(ErrorDetail.Kind.PERMISSION_DENIED, e.detail().getKind(), e.getMessage());
    assertFalse(e.isRetryable());
    return e.code();
  }

  @Test
  void aMemberCannotMintBurnCreateGrantOrTakeFromAnotherAccount() {
    LedgerSummary before = admin.summary();
    long bank = balance("bank");
    assertEquals(ResultCode.PERMISSION_DENIED, alice.mint("alice-acct", 5).getCode());
    assertEquals(ResultCode.PERMISSION_DENIED, alice.burn("bank", 5).getCode());
    assertEquals(ResultCode.PERMISSION_DENIED, alice.createAccount("alice-2").getCode());
    assertEquals(ResultCode.PERMISSION_DENIED, alice.grantRole("alice", Role.ADMIN).getCode());
    assertEquals(ResultCode.PERMISSION_DENIED, alice.transfer("bank", "alice-acct", 5).getCode());
    LedgerSummary after = admin.summary();
    assertEquals(before.getTotalMinted(), after.getTotalMinted());
    assertEquals(before.getTotalBurned(), after.getTotalBurned());
    assertEquals(before.getAccountCount(), after.getAccountCount());
    assertEquals(bank, balance("bank"));
    assertFalse(admin.getAccount("alice-2").getFound());
    assertFalse(
        admin.listRoles().getGrantsList().stream()
            .anyMatch(
                g -> g.getPrincipal().equals("alice") && g.getRolesList().contains(Role.ADMIN)));
  }

  @Test
  void aMemberCannotChangeTheMembership() {
    assertEquals(
        Status.Code.PERMISSION_DENIED,
        permissionRefusal(() -> alice.addMember("n9", "127.0.0.1:1", "127.0.0.1:2")));
    assertEquals(Status.Code.PERMISSION_DENIED, permissionRefusal(() -> alice.removeMember("n2")));
    assertEquals(3, admin.status().getMembersCount());
  }

  @Test
  void aMemberMovesTokensOutOfItsOwnAccountAndTheLogNamesIt() {
    String id = "alice-pays-" + System.nanoTime();
    assertEquals(ResultCode.OK, alice.single(Ops.transfer(id, "alice-acct", "bank", 1)).getCode());
    GetTransferResponse t = admin.getTransfer(id);
    assertTrue(t.getFound());
    assertEquals("alice", t.getPrincipal());
  }

  @Test
  void anIssuerMintsButCannotChangeMembershipOrGrant() {
    assertEquals(ResultCode.OK, carol.createAccount("carol-acct").getCode());
    assertEquals(ResultCode.OK, carol.mint("carol-acct", 7).getCode());
    assertEquals(7, balance("carol-acct"));
    assertEquals(ResultCode.PERMISSION_DENIED, carol.grantRole("carol", Role.ADMIN).getCode());
    assertEquals(
        Status.Code.PERMISSION_DENIED,
        permissionRefusal(() -> carol.addMember("n9", "127.0.0.1:1", "127.0.0.1:2")));
  }

  @Test
  void aCertificateWithoutARoleCanAskForStatusButNotRead() {
    assertTrue(nobody.status().getMembersCount() > 0);
    assertEquals(Status.Code.PERMISSION_DENIED, permissionRefusal(() -> nobody.getAccount("bank")));
    // Every operation needs a role, so the leader refuses the whole request at the door: it is
    // not appended (nothing to replay), and the caller learns it as for a read.
    assertEquals(
        Status.Code.PERMISSION_DENIED,
        permissionRefusal(() -> nobody.transfer("bank", "alice-acct", 1)));
  }

  @Test
  void revokingARoleTakesEffectOnTheNextOperation() throws Exception {
    try (CairnClient dave =
        cluster.clientBuilder("dave").totalTimeout(Duration.ofSeconds(20)).build()) {
      assertEquals(ResultCode.OK, admin.grantRole("dave", Role.ISSUER).getCode());
      assertEquals(ResultCode.OK, dave.createAccount("dave-acct").getCode());
      assertEquals(ResultCode.OK, dave.mint("dave-acct", 3).getCode());
      assertEquals(ResultCode.OK, admin.revokeRole("dave", Role.ISSUER).getCode());
      // dave's last role is gone: the leader refuses his requests whole from now on.
      assertEquals(
          Status.Code.PERMISSION_DENIED, permissionRefusal(() -> dave.mint("dave-acct", 3)));
      assertEquals(3, balance("dave-acct"));
      assertEquals(ResultCode.OK, admin.grantRole("dave", Role.ISSUER).getCode());
      assertEquals(ResultCode.OK, dave.mint("dave-acct", 4).getCode(), "a grant opens it again");
      assertEquals(7, balance("dave-acct"));
    }
    // every replica decided the same
    cluster.assertRootsAgree(Duration.ofSeconds(20));
  }
}
