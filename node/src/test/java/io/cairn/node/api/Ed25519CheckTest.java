package io.cairn.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cairn.proto.Operation;
import io.cairn.proto.Transfer;
import io.cairn.proto.signing.Signing;
import java.security.KeyPair;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;

/** The leader's Bouncy Castle check says what the JDK's (used offline) says. */
class Ed25519CheckTest {
  private static final KeyPair KEY = Signing.newKeyPair();
  private static final KeyPair OTHER = Signing.newKeyPair();

  private static Operation transfer(String id, long amount) {
    return Operation.newBuilder()
        .setId(id)
        .setCreatedAtMillis(1_700_000_000_000L)
        .setTransfer(Transfer.newBuilder().setFrom("a").setTo("b").setAmount(amount))
        .build();
  }

  @Property(tries = 60)
  void agreesWithTheJdk(@ForAll @LongRange(min = 1) long amount, @ForAll int tamper) {
    Operation op = transfer("t" + amount, amount);
    byte[] sig = Signing.sign((tamper % 3 == 0 ? OTHER : KEY).getPrivate(), op);
    if (tamper % 3 == 1) {
      sig[Math.floorMod(tamper, 64)] ^= 1;
    }
    Operation signed = op.toBuilder().setSignature(ByteString.copyFrom(sig)).build();
    byte[] der = KEY.getPublic().getEncoded();
    assertEquals(Signing.verify(der, signed), Ed25519Check.verify(der, signed));
  }

  @Property(tries = 20)
  void aGoodSignatureVerifiesAndAChangedAmountDoesNot(
      @ForAll @LongRange(min = 1, max = 1000) long a) {
    Operation op = transfer("x" + a, a);
    Operation signed =
        op.toBuilder()
            .setSignature(ByteString.copyFrom(Signing.sign(KEY.getPrivate(), op)))
            .build();
    byte[] der = KEY.getPublic().getEncoded();
    assertTrue(Ed25519Check.verify(der, signed));
    Operation changed =
        signed.toBuilder().setTransfer(signed.getTransfer().toBuilder().setAmount(a + 1)).build();
    assertFalse(Ed25519Check.verify(der, changed));
    assertFalse(Ed25519Check.verify(new byte[] {1, 2, 3}, signed));
  }
}
