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

import com.google.protobuf.ByteString;
import io.cairn.node.raft.LedgerSnapshotCodec;
import io.cairn.proto.Account;
import io.cairn.proto.CreateAccount;
import io.cairn.proto.Operation;
import io.cairn.proto.ResultCode;
import io.cairn.proto.signing.Signing;
import io.cairn.proto.verify.StateHashing;
import java.io.ByteArrayInputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What every replica decides about signed debits: only that a debit from an account requiring
 * signatures carries one (the leader verified it before append). Keys are part of the leaf and the
 * snapshot.
 */
class LedgerSignaturesTest {
  static final Caller ROOT = new Caller("root", true);
  static final byte[] KEY = Signing.newKeyPair().getPublic().getEncoded();
  private long index = 1;

  static Operation createWithKey(String id, String account, byte[] key, boolean required) {
    return Operation.newBuilder()
        .setId(id)
        .setCreatedAtMillis(T0)
        .setCreateAccount(
            CreateAccount.newBuilder()
                .setAccount(account)
                .setPublicKey(ByteString.copyFrom(key))
                .setRequireSignatures(required))
        .build();
  }

  private ResultCode apply(Ledger l, Operation op) {
    return l.apply(T0, ++index, ROOT, List.of(op), false).get(0).code();
  }

  private Ledger ledger() {
    Ledger l = new Ledger(LIMITS);
    assertEquals(ResultCode.OK, apply(l, createWithKey("c1", "vault", KEY, true)));
    assertEquals(ResultCode.OK, apply(l, create("c2", "shop", T0)));
    assertEquals(ResultCode.OK, apply(l, mint("m1", "vault", 100, T0)));
    return l;
  }

  private static Operation withSignature(Operation op) {
    return op.toBuilder().setSignature(ByteString.copyFrom(new byte[64])).build();
  }

  @Test
  void debitsWithoutASignatureAreRefusedAndRecorded() {
    Ledger l = ledger();
    assertEquals(ResultCode.SIGNATURE_REQUIRED, apply(l, transfer("t1", "vault", "shop", 5, T0)));
    assertEquals(ResultCode.SIGNATURE_REQUIRED, apply(l, burn("b1", "vault", 5, T0)));
    assertEquals(100, l.account("vault").orElseThrow().getBalance());
    assertEquals(
        ResultCode.SIGNATURE_REQUIRED, l.operation("t1").orElseThrow().getCode(), "recorded");
    // Credits to it need none.
    assertEquals(ResultCode.OK, apply(l, mint("m2", "shop", 5, T0)));
    assertEquals(ResultCode.OK, apply(l, transfer("t2", "shop", "vault", 5, T0)));
  }

  @Test
  void aSignedDebitAppliesForTheLeaderCheckedIt() {
    Ledger l = ledger();
    assertEquals(ResultCode.OK, apply(l, withSignature(transfer("t1", "vault", "shop", 5, T0))));
    assertEquals(95, l.account("vault").orElseThrow().getBalance());
  }

  @Test
  void badKeysAndSignatureLengthsAreRuleBreaches() {
    Ledger l = ledger();
    assertEquals(
        ResultCode.INVALID_PUBLIC_KEY,
        apply(l, createWithKey("c3", "x", new byte[] {1, 2}, false)));
    assertEquals(
        ResultCode.INVALID_PUBLIC_KEY, apply(l, createWithKey("c4", "y", new byte[0], true)));
    assertFalse(l.account("x").isPresent());
    Operation shortSig =
        transfer("t9", "vault", "shop", 1, T0).toBuilder()
            .setSignature(ByteString.copyFrom(new byte[10]))
            .build();
    assertEquals(ResultCode.INVALID_PUBLIC_KEY, apply(l, shortSig));
  }

  @Test
  void theKeyIsInTheLeafAndTheSnapshot() throws Exception {
    Ledger l = ledger();
    Account vault = l.account("vault").orElseThrow();
    assertArrayEquals(KEY, vault.getPublicKey().toByteArray());
    Account keyless = vault.toBuilder().clearPublicKey().setRequireSignatures(false).build();
    Account optional = vault.toBuilder().setRequireSignatures(false).build();
    assertFalse(
        java.util.Arrays.equals(StateHashing.valueHash(vault), StateHashing.valueHash(keyless)));
    assertFalse(
        java.util.Arrays.equals(StateHashing.valueHash(vault), StateHashing.valueHash(optional)));
    byte[] bytes = LedgerRolesTest.snapshot(l);
    Ledger restored = LedgerSnapshotCodec.read(new ByteArrayInputStream(bytes), LIMITS);
    assertEquals(vault, restored.account("vault").orElseThrow());
    assertEquals(
        ResultCode.SIGNATURE_REQUIRED, apply(restored, transfer("t5", "vault", "shop", 5, T0)));
  }
}
