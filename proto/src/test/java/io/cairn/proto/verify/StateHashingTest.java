package io.cairn.proto.verify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cairn.proto.Account;
import io.cairn.proto.Proof;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The owner's place in an account's leaf (the rest is pinned by the node's known-answer root). */
class StateHashingTest {
  static final Account ALICE =
      Account.newBuilder().setId("alice").setBalance(250).setVersion(3).build();

  @Test
  void anAccountWithoutAnOwnerEncodesAsBeforeOwnersExisted() {
    byte[] expected =
        ByteBuffer.allocate(2 + 5 + 16)
            .putShort((short) 5)
            .put("alice".getBytes(StandardCharsets.US_ASCII))
            .putLong(250)
            .putLong(3)
            .array();
    assertArrayEquals(expected, StateHashing.valueEncoding(ALICE));
  }

  @Test
  void anOwnerIsAppendedWithItsLength() {
    byte[] plain = StateHashing.valueEncoding(ALICE);
    byte[] owned = StateHashing.valueEncoding(ALICE.toBuilder().setOwner("bob").build());
    byte[] tail =
        ByteBuffer.allocate(5).putShort((short) 3).put(new byte[] {'b', 'o', 'b'}).array();
    assertArrayEquals(plain, Arrays.copyOf(owned, plain.length));
    assertArrayEquals(tail, Arrays.copyOfRange(owned, plain.length, owned.length));
  }

  @Test
  void accountsThatDifferOnlyInOwnerHashDifferently() {
    byte[] none = StateHashing.valueHash(ALICE);
    byte[] bob = StateHashing.valueHash(ALICE.toBuilder().setOwner("bob").build());
    byte[] carol = StateHashing.valueHash(ALICE.toBuilder().setOwner("carol").build());
    assertFalse(Arrays.equals(none, bob));
    assertFalse(Arrays.equals(bob, carol));
  }

  /** A one-account tree: its root is the account's leaf, and its proof has no siblings. */
  @Test
  void aProofOfAnOwnedAccountVerifiesAndAWrongOwnerDoesNot() {
    Account owned = ALICE.toBuilder().setOwner("alice-cert").build();
    byte[] root = StateHashing.leafHash(StateHashing.key("alice"), StateHashing.valueHash(owned));
    Proof proof =
        Proof.newBuilder()
            .setAccount("alice")
            .setPresent(true)
            .setLeaf(owned)
            .setStateRoot(ByteString.copyFrom(root))
            .build();
    assertTrue(ProofVerifier.verify(proof, root).valid());
    Proof otherOwner = proof.toBuilder().setLeaf(owned.toBuilder().setOwner("mallory")).build();
    assertFalse(ProofVerifier.verify(otherOwner, root).valid());
    Proof noOwner = proof.toBuilder().setLeaf(owned.toBuilder().clearOwner()).build();
    assertFalse(ProofVerifier.verify(noOwner, root).valid());
  }
}
