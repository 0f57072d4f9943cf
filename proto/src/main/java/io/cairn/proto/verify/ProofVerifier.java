package io.cairn.proto.verify;

import io.cairn.proto.Proof;
import java.security.MessageDigest;

/**
 * Recomputes the state root from a {@link Proof} (of an account's presence with its leaf, or of its
 * absence) by the rules of {@link StateHashing}, and compares it with a root the caller trusts. A
 * node cannot make a wrong balance, version or owner, or a false absence, verify against a given
 * root without finding a SHA-256 collision.
 *
 * <p>What a valid proof proves depends on where the root came from: against the root stamped on the
 * same reply it shows the reply is self-consistent; against a root obtained independently (another
 * node, a Watch entry, a recorded checkpoint) it shows the account's state at that root. It does
 * not check that the proof is about the account the caller asked for: compare {@code
 * proof.getAccount()} yourself, as {@code CairnClient.verifiedAccount} does.
 */
public final class ProofVerifier {
  /**
   * The verdict.
   *
   * @param valid whether the proof recomputes to the expected root
   * @param reason {@code "ok"} when valid, else the first check that failed, for a person
   */
  public record Result(boolean valid, String reason) {
    static Result ok() {
      return new Result(true, "ok");
    }

    static Result bad(String reason) {
      return new Result(false, reason);
    }
  }

  private ProofVerifier() {}

  /**
   * Verifies {@code proof} against {@code expectedRoot}: the proof's own {@code state_root} must
   * equal it, its shape must fit its kind (a presence proof carries the account's own leaf and no
   * other; an absence proof ends at an empty subtree or at another account's leaf on the same
   * path), it has at most 256 levels of 32-byte siblings, and the hashes recompute to the root.
   * Pure; compares hashes in constant time.
   *
   * @param expectedRoot the 32-byte state root to check against
   * @return the verdict; a malformed proof or root is an invalid verdict, not an exception
   * @throws IllegalArgumentException only when a presence proof's account id or owner is too long
   *     to encode (over 65,535 UTF-8 bytes)
   */
  public static Result verify(Proof proof, byte[] expectedRoot) {
    if (expectedRoot == null || expectedRoot.length != StateHashing.HASH_BYTES) {
      return Result.bad("expected root must be 32 bytes");
    }
    if (!MessageDigest.isEqual(proof.getStateRoot().toByteArray(), expectedRoot)) {
      return Result.bad("proof is for a different state root");
    }
    int depth = proof.getSiblingsCount();
    if (depth > StateHashing.KEY_BITS) {
      return Result.bad("proof has " + depth + " levels; at most 256");
    }
    byte[] key = StateHashing.key(proof.getAccount());
    byte[] node;
    if (proof.getPresent()) {
      if (!proof.hasLeaf() || !proof.getLeaf().getId().equals(proof.getAccount())) {
        return Result.bad("presence proof without the account's own leaf");
      }
      if (!proof.getOtherKey().isEmpty() || !proof.getOtherValueHash().isEmpty()) {
        return Result.bad("presence proof must not name another leaf");
      }
      node = StateHashing.leafHash(key, StateHashing.valueHash(proof.getLeaf()));
    } else if (proof.hasLeaf()) {
      return Result.bad("absence proof carries a leaf");
    } else if (proof.getOtherKey().isEmpty()) {
      if (!proof.getOtherValueHash().isEmpty()) {
        return Result.bad("absence proof has a value hash but no key");
      }
      node = StateHashing.empty();
    } else {
      byte[] other = proof.getOtherKey().toByteArray();
      byte[] otherValue = proof.getOtherValueHash().toByteArray();
      if (other.length != StateHashing.HASH_BYTES || otherValue.length != StateHashing.HASH_BYTES) {
        return Result.bad("absence proof's other leaf must have a 32-byte key and value hash");
      }
      if (MessageDigest.isEqual(other, key)) {
        return Result.bad("absence proof's other leaf is the account itself");
      }
      for (int d = 0; d < depth; d++) {
        if (StateHashing.bit(other, d) != StateHashing.bit(key, d)) {
          return Result.bad("absence proof's other leaf is not on the account's path");
        }
      }
      node = StateHashing.leafHash(other, otherValue);
    }
    for (int d = depth - 1; d >= 0; d--) {
      byte[] sibling = proof.getSiblings(d).toByteArray();
      if (sibling.length != StateHashing.HASH_BYTES) {
        return Result.bad("sibling " + d + " is not 32 bytes");
      }
      node =
          StateHashing.bit(key, d) == 0
              ? StateHashing.internalHash(node, sibling)
              : StateHashing.internalHash(sibling, node);
    }
    if (!MessageDigest.isEqual(node, expectedRoot)) {
      return Result.bad("recomputed root does not match");
    }
    return Result.ok();
  }
}
