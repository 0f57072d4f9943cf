package io.cairn.proto.verify;

import io.cairn.proto.Proof;
import java.security.MessageDigest;

/**
 * Recomputes the state root from a {@link Proof} and compares it with a root the caller trusts
 * (or with the proof's own {@code state_root}, checked against the reply's stamp). A node cannot
 * make a wrong balance verify without finding a SHA-256 collision.
 */
public final class ProofVerifier {
  /** The verdict: valid, or the first reason it is not. */
  public record Result(boolean valid, String reason) {
    static Result ok() {
      return new Result(true, "ok");
    }

    static Result bad(String reason) {
      return new Result(false, reason);
    }
  }

  private ProofVerifier() {}

  /** Verifies {@code proof} against {@code expectedRoot}. */
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
