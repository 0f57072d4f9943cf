package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.CairnException;
import io.cairn.client.Ops;
import io.cairn.proto.Account;
import io.cairn.proto.ErrorDetail;
import io.cairn.proto.GetTransferResponse;
import io.cairn.proto.Operation;
import io.cairn.proto.ResultCode;
import io.cairn.proto.signing.Signing;
import io.grpc.Status;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance 4 of the trust boundary, on a real node: an account that requires signatures takes
 * only debits its key signed, over exactly the operation that is applied.
 */
class SignedDebitTest {
  @TempDir static Path data;
  static LocalCluster cluster;
  static CairnClient admin;
  static final KeyPair VAULT_KEY = Signing.newKeyPair();
  static final KeyPair OTHER_KEY = Signing.newKeyPair();

  @BeforeAll
  static void start() throws Exception {
    cluster = new LocalCluster("signed-debits", 1, data, Map.of()).start();
    admin = cluster.clientBuilder().totalTimeout(Duration.ofSeconds(20)).build();
    assertEquals(
        ResultCode.OK,
        admin
            .single(Ops.createAccount(Ops.newId(), "vault", "", VAULT_KEY.getPublic(), true))
            .getCode());
    assertEquals(ResultCode.OK, admin.createAccount("shop").getCode());
    assertEquals(ResultCode.OK, admin.mint("vault", 100).getCode());
  }

  @AfterAll
  static void stop() {
    if (admin != null) {
      admin.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private static long vault() {
    return admin.getAccount("vault").getAccount().getBalance();
  }

  private static void refusedBeforeTheLog(Operation op) {
    long before = vault();
    CairnException e = assertThrows(CairnException.class, () -> admin.single(op));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.code(), e.getMessage());
    assertEquals(ErrorDetail.Kind.INVALID_REQUEST, e.detail().getKind());
    assertTrue(e.detail().getNotApplied());
    assertFalse(admin.getTransfer(op.getId()).getFound(), "refused, so never in the log");
    assertEquals(before, vault());
  }

  @Test
  void anUnsignedDebitIsRefused() {
    long before = vault();
    assertEquals(ResultCode.SIGNATURE_REQUIRED, admin.transfer("vault", "shop", 10).getCode());
    assertEquals(
        ResultCode.SIGNATURE_REQUIRED, admin.single(Ops.burn(Ops.newId(), "vault", 1)).getCode());
    assertEquals(before, vault());
  }

  @Test
  void aSignatureByAnotherKeyIsRefused() {
    refusedBeforeTheLog(
        Ops.signed(Ops.transfer(Ops.newId(), "vault", "shop", 10), OTHER_KEY.getPrivate()));
  }

  @Test
  void aSignatureOverAChangedAmountDestinationOrIdIsRefused() {
    Operation signed =
        Ops.signed(Ops.transfer("pay-1", "vault", "shop", 10), VAULT_KEY.getPrivate());
    refusedBeforeTheLog(
        signed.toBuilder().setTransfer(signed.getTransfer().toBuilder().setAmount(99)).build());
    refusedBeforeTheLog(
        signed.toBuilder().setTransfer(signed.getTransfer().toBuilder().setTo("vault-2")).build());
    // the same signature replayed under a new id
    refusedBeforeTheLog(signed.toBuilder().setId("pay-1-again").build());
  }

  @Test
  void aCorrectSignatureAppliesAndVerifiesOfflineFromTransferGet() throws Exception {
    long before = vault();
    Operation op = Ops.signed(Ops.transfer("pay-ok", "vault", "shop", 7), VAULT_KEY.getPrivate());
    assertEquals(ResultCode.OK, admin.single(op).getCode());
    assertEquals(before - 7, vault());
    GetTransferResponse stored = admin.getTransfer("pay-ok");
    assertTrue(stored.getFound());
    assertEquals("admin", stored.getPrincipal());
    // Offline: the stored operation, and the key as a Merkle proof shows it.
    Account proven = admin.verifiedAccount("vault").getAccount();
    assertTrue(proven.getRequireSignatures());
    assertTrue(Signing.verify(proven.getPublicKey().toByteArray(), stored.getOperation()));
    assertFalse(
        Signing.verify(OTHER_KEY.getPublic().getEncoded(), stored.getOperation()),
        "and only against the vault's key");
  }
}
