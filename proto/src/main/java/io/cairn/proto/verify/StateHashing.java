package io.cairn.proto.verify;

import io.cairn.proto.Account;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Collection;

/**
 * The hashing rules of Cairn's state commitment, shared by node and client. Written to be
 * reimplemented byte for byte in any language:
 *
 * <ul>
 *   <li>{@code H} is SHA-256.
 *   <li>key of an account = {@code H(UTF-8 bytes of the account id)}: a 256-bit path, most
 *       significant bit of byte 0 first.
 *   <li>value encoding of an account = {@code u16 len(id) || id (UTF-8) || u64 balance || u64
 *       version}, then, only when the account has an owner (a non-empty principal), {@code u16
 *       len(owner) || owner (UTF-8)}, then, only when the account has a public key, {@code u8
 *       require_signatures (0 or 1) || u16 len(key) || key} (the owner part is then written even
 *       when empty); integers big-endian, balance and version unsigned. An account without an owner
 *       or a key thus hashes exactly as before they existed, and the encoding stays unambiguous
 *       (each optional part is there exactly when bytes follow the part before).
 *   <li>value hash = {@code H(0x00 || value encoding)}.
 *   <li>leaf hash = {@code H(0x01 || key || value hash)}.
 *   <li>internal hash = {@code H(0x02 || left || right)}.
 *   <li>empty subtree = 32 zero bytes.
 * </ul>
 *
 * The tree is a compressed sparse Merkle tree: a subtree that holds a single leaf is represented by
 * that leaf's hash at the depth where its path first diverges from every other key, and an empty
 * subtree by the empty hash. The root of an empty ledger is the empty hash. Every method is pure
 * and thread-safe and returns a new array.
 */
public final class StateHashing {
  /** Length of every hash, key and root: 32 bytes (SHA-256). */
  public static final int HASH_BYTES = 32;

  /** Length of an account's key, and so the most levels a proof can have: 256 bits. */
  public static final int KEY_BITS = 256;

  private static final byte VALUE = 0x00;
  private static final byte LEAF = 0x01;
  private static final byte INTERNAL = 0x02;
  private static final byte[] EMPTY = new byte[HASH_BYTES];

  private StateHashing() {}

  /** The hash of an empty subtree (a copy). */
  public static byte[] empty() {
    return EMPTY.clone();
  }

  /** Whether {@code hash} is the empty-subtree hash (32 zero bytes); constant time. */
  public static boolean isEmpty(byte[] hash) {
    return MessageDigest.isEqual(hash, EMPTY);
  }

  /** An account's 256-bit key: {@code H(UTF-8 bytes of the account id)}. */
  public static byte[] key(String accountId) {
    return sha256().digest(accountId.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * An account's value encoding: {@code u16 len(id) || id (UTF-8) || u64 balance || u64 version},
   * followed by {@code u16 len(owner) || owner (UTF-8)} when the owner is not empty; big-endian.
   *
   * @throws IllegalArgumentException when the id or the owner is over 65,535 UTF-8 bytes (the rule
   *     book allows 64 characters)
   */
  public static byte[] valueEncoding(Account a) {
    byte[] id = a.getId().getBytes(StandardCharsets.UTF_8);
    byte[] owner = a.getOwner().getBytes(StandardCharsets.UTF_8);
    byte[] key = a.getPublicKey().toByteArray();
    if (id.length > 0xFFFF || owner.length > 0xFFFF || key.length > 0xFFFF) {
      throw new IllegalArgumentException("account id, owner or key too long to encode");
    }
    boolean ownerPart = owner.length > 0 || key.length > 0;
    ByteBuffer b =
        ByteBuffer.allocate(
                2
                    + id.length
                    + 16
                    + (ownerPart ? 2 + owner.length : 0)
                    + (key.length > 0 ? 3 + key.length : 0))
            .putShort((short) id.length)
            .put(id)
            .putLong(a.getBalance())
            .putLong(a.getVersion());
    if (ownerPart) {
      b.putShort((short) owner.length).put(owner);
    }
    if (key.length > 0) {
      b.put((byte) (a.getRequireSignatures() ? 1 : 0)).putShort((short) key.length).put(key);
    }
    return b.array();
  }

  /**
   * An account's value hash: {@code H(0x00 || value encoding)}.
   *
   * @throws IllegalArgumentException as {@link #valueEncoding}
   */
  public static byte[] valueHash(Account a) {
    MessageDigest md = sha256();
    md.update(VALUE);
    md.update(valueEncoding(a));
    return md.digest();
  }

  /** A leaf's hash: {@code H(0x01 || key || value hash)}. */
  public static byte[] leafHash(byte[] key, byte[] valueHash) {
    MessageDigest md = sha256();
    md.update(LEAF);
    md.update(key);
    md.update(valueHash);
    return md.digest();
  }

  /** An internal node's hash: {@code H(0x02 || left || right)}. */
  public static byte[] internalHash(byte[] left, byte[] right) {
    MessageDigest md = sha256();
    md.update(INTERNAL);
    md.update(left);
    md.update(right);
    return md.digest();
  }

  /**
   * The state root of a whole set of accounts, computed from the rules above in one pass (the node
   * keeps its tree incrementally; this is the independent check a backup or an auditor runs).
   *
   * @throws IllegalArgumentException when two accounts have the same id, or as {@link
   *     #valueEncoding}
   */
  public static byte[] rootOf(Collection<Account> accounts) {
    byte[][] keys = new byte[accounts.size()][];
    byte[][] leaves = new byte[accounts.size()][];
    Integer[] order = new Integer[accounts.size()];
    int i = 0;
    for (Account a : accounts) {
      keys[i] = key(a.getId());
      leaves[i] = leafHash(keys[i], valueHash(a));
      order[i] = i;
      i++;
    }
    Arrays.sort(order, (x, y) -> Arrays.compareUnsigned(keys[x], keys[y]));
    byte[][] sortedKeys = new byte[order.length][];
    byte[][] sortedLeaves = new byte[order.length][];
    for (int j = 0; j < order.length; j++) {
      sortedKeys[j] = keys[order[j]];
      sortedLeaves[j] = leaves[order[j]];
      if (j > 0 && Arrays.equals(sortedKeys[j], sortedKeys[j - 1])) {
        throw new IllegalArgumentException("two accounts with the same id");
      }
    }
    return subtreeRoot(sortedKeys, sortedLeaves, 0, order.length, 0);
  }

  /** The root of keys[from, to), sorted, all sharing their first {@code depth} bits. */
  private static byte[] subtreeRoot(byte[][] keys, byte[][] leaves, int from, int to, int depth) {
    if (from == to) {
      return empty();
    }
    if (to - from == 1) {
      return leaves[from].clone();
    }
    int split = from;
    while (split < to && bit(keys[split], depth) == 0) {
      split++;
    }
    return internalHash(
        subtreeRoot(keys, leaves, from, split, depth + 1),
        subtreeRoot(keys, leaves, split, to, depth + 1));
  }

  /** Bit {@code depth} of a key, 0 = most significant bit of byte 0. */
  public static int bit(byte[] key, int depth) {
    return (key[depth >>> 3] >>> (7 - (depth & 7))) & 1;
  }

  // One digest per thread: MessageDigest.getInstance does a provider lookup on every call.
  private static final ThreadLocal<MessageDigest> DIGEST =
      ThreadLocal.withInitial(
          () -> {
            try {
              return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException("SHA-256 is required by every JVM", e);
            }
          });

  static MessageDigest sha256() {
    MessageDigest md = DIGEST.get();
    md.reset();
    return md;
  }
}
