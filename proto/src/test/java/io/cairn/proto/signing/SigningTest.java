package io.cairn.proto.signing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cairn.proto.Burn;
import io.cairn.proto.Mint;
import io.cairn.proto.Operation;
import io.cairn.proto.Transfer;
import java.security.KeyPair;
import org.junit.jupiter.api.Test;

class SigningTest {
  private static final KeyPair ALICE = Signing.newKeyPair();
  private static final KeyPair MALLORY = Signing.newKeyPair();

  private static Operation transfer(String id, String to, long amount) {
    return Operation.newBuilder()
        .setId(id)
        .setCreatedAtMillis(1_700_000_000_000L)
        .setTransfer(Transfer.newBuilder().setFrom("alice").setTo(to).setAmount(amount))
        .build();
  }

  private static Operation signed(Operation op, KeyPair key) {
    return op.toBuilder()
        .setSignature(ByteString.copyFrom(Signing.sign(key.getPrivate(), op)))
        .build();
  }

  private static byte[] alicePublic() {
    return ALICE.getPublic().getEncoded();
  }

  @Test
  void aSignatureByTheAccountsKeyVerifies() {
    assertTrue(Signing.verify(alicePublic(), signed(transfer("t1", "bob", 5), ALICE)));
  }

  @Test
  void unsignedAndOtherKeysDoNot() {
    assertFalse(Signing.verify(alicePublic(), transfer("t1", "bob", 5)));
    assertFalse(Signing.verify(alicePublic(), signed(transfer("t1", "bob", 5), MALLORY)));
  }

  @Test
  void changingAmountDestinationOrIdBreaksIt() {
    Operation good = signed(transfer("t1", "bob", 5), ALICE);
    ByteString sig = good.getSignature();
    assertFalse(
        Signing.verify(
            alicePublic(), transfer("t1", "bob", 6).toBuilder().setSignature(sig).build()));
    assertFalse(
        Signing.verify(
            alicePublic(), transfer("t1", "eve", 5).toBuilder().setSignature(sig).build()));
    // the same signature replayed under a new id
    assertFalse(
        Signing.verify(
            alicePublic(), transfer("t2", "bob", 5).toBuilder().setSignature(sig).build()));
  }

  @Test
  void theSignatureIsNotPartOfWhatIsSigned() {
    Operation op = transfer("t1", "bob", 5);
    assertArrayEquals(Signing.canonicalBytes(op), Signing.canonicalBytes(signed(op, ALICE)));
  }

  @Test
  void burnsAreDebitsMintsAreNot() {
    Operation burn =
        Operation.newBuilder()
            .setId("b1")
            .setCreatedAtMillis(1)
            .setBurn(Burn.newBuilder().setAccount("alice").setAmount(3))
            .build();
    assertTrue(Signing.verify(alicePublic(), signed(burn, ALICE)));
    Operation mint =
        Operation.newBuilder()
            .setId("m1")
            .setCreatedAtMillis(1)
            .setMint(Mint.newBuilder().setAccount("alice").setAmount(3))
            .build();
    assertThrows(IllegalArgumentException.class, () -> Signing.canonicalBytes(mint));
    assertFalse(Signing.verify(alicePublic(), mint));
  }

  @Test
  void garbageKeysAndSignaturesAreFalseNotExceptions() {
    Operation op =
        transfer("t1", "bob", 5).toBuilder().setSignature(ByteString.copyFromUtf8("x")).build();
    assertFalse(Signing.verify(alicePublic(), op));
    assertFalse(Signing.verify(new byte[] {1, 2, 3}, signed(transfer("t1", "bob", 5), ALICE)));
    assertFalse(Signing.isPublicKey(new byte[] {1, 2, 3}));
    assertTrue(Signing.isPublicKey(alicePublic()));
  }

  @Test
  void pemRoundTrips() {
    byte[] der = alicePublic();
    assertArrayEquals(der, Signing.fromPem("PUBLIC KEY", Signing.pem("PUBLIC KEY", der)));
  }
}
