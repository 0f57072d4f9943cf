package io.cairn.node.merkle;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import com.google.protobuf.ByteString;
import io.cairn.proto.Account;
import io.cairn.proto.Proof;
import io.cairn.proto.verify.StateHashing;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * A compressed sparse Merkle tree over all accounts (hashing rules in {@link StateHashing}). Keys
 * are SHA-256 of the account id; a subtree with one leaf collapses into that leaf and an empty one
 * into the empty hash, so n accounts cost O(n) nodes and an update O(log n) hashes. The shape, and
 * so the root, depends only on the set of accounts, never on insertion order.
 *
 * <p>Updates mark their path dirty; hashes are recomputed once per {@link #root()} call, so a log
 * entry that changes k accounts pays for the union of their paths once.
 *
 * <p>Built proofs are cached (Caffeine, bounded by an estimate of their heap bytes, {@link
 * #weightOf}) by (root, account): a proof is immutable for a given root, so the cache can never
 * serve a stale one. Correctness never depends on the cache; size 0 disables it.
 *
 * <p>Not thread-safe: the state machine serialises writers and readers with its lock.
 */
public final class MerkleTree {
  private abstract static sealed class Node permits Leaf, Branch {
    abstract byte[] hash();
  }

  private static final class Leaf extends Node {
    final byte[] key;
    Account account;
    byte[] hash;

    Leaf(byte[] key, Account account) {
      this.key = key;
      this.account = account;
    }

    @Override
    byte[] hash() {
      if (hash == null) {
        hash = StateHashing.leafHash(key, StateHashing.valueHash(account));
      }
      return hash;
    }
  }

  private static final class Branch extends Node {
    Node left;
    Node right;
    byte[] hash;

    @Override
    byte[] hash() {
      if (hash == null) {
        hash = StateHashing.internalHash(hashOf(left), hashOf(right));
      }
      return hash;
    }
  }

  private record ProofKey(ByteString root, String account) {}

  private static final byte[] EMPTY = StateHashing.empty();

  private final Cache<ProofKey, Proof> proofs;
  private Node root;
  private long size;

  /** A tree whose proof cache holds at most about {@code proofCacheMaxBytes} of heap. */
  public MerkleTree(long proofCacheMaxBytes) {
    this.proofs =
        Caffeine.newBuilder()
            .maximumWeight(proofCacheMaxBytes)
            .weigher(MerkleTree::weightOf)
            .recordStats()
            .build();
  }

  /**
   * The heap a cached proof is counted as: twice its encoded size (each 32-byte hash is a
   * ByteString object around an array) plus the key (root and account id) and Caffeine's node.
   */
  private static int weightOf(ProofKey key, Proof proof) {
    return 2 * proof.getSerializedSize() + 2 * key.account().length() + 160;
  }

  /** Builds a tree holding exactly {@code all} (e.g. on snapshot load). */
  public static MerkleTree build(Iterable<Account> all, long proofCacheMaxBytes) {
    MerkleTree t = new MerkleTree(proofCacheMaxBytes);
    for (Account a : all) {
      t.put(a);
    }
    return t;
  }

  /** Inserts or replaces each account's leaf; hashes are recomputed lazily by {@link #root()}. */
  public void putAll(Collection<Account> changed) {
    for (Account a : changed) {
      put(a);
    }
  }

  private void put(Account a) {
    byte[] key = StateHashing.key(a.getId());
    if (root == null) {
      root = new Leaf(key, a);
      size++;
      return;
    }
    root = insert(root, 0, key, a);
  }

  private Node insert(Node node, int depth, byte[] key, Account a) {
    if (node == null) {
      size++;
      return new Leaf(key, a);
    }
    if (node instanceof Leaf leaf) {
      if (Arrays.equals(leaf.key, key)) {
        leaf.account = a;
        leaf.hash = null;
        return leaf;
      }
      size++;
      return split(leaf, new Leaf(key, a), depth);
    }
    Branch b = (Branch) node;
    b.hash = null;
    if (StateHashing.bit(key, depth) == 0) {
      b.left = insert(b.left, depth + 1, key, a);
    } else {
      b.right = insert(b.right, depth + 1, key, a);
    }
    return b;
  }

  /** Two leaves that share the first {@code depth} bits: branch until their paths diverge. */
  private static Node split(Leaf existing, Leaf added, int depth) {
    if (depth >= StateHashing.KEY_BITS) {
      throw new IllegalStateException("SHA-256 collision between two account ids");
    }
    Branch b = new Branch();
    int e = StateHashing.bit(existing.key, depth);
    int n = StateHashing.bit(added.key, depth);
    if (e != n) {
      if (e == 0) {
        b.left = existing;
        b.right = added;
      } else {
        b.left = added;
        b.right = existing;
      }
    } else if (e == 0) {
      b.left = split(existing, added, depth + 1);
    } else {
      b.right = split(existing, added, depth + 1);
    }
    return b;
  }

  private static byte[] hashOf(Node n) {
    return n == null ? EMPTY : n.hash();
  }

  /** The 32-byte root (a copy); recomputes dirty paths. */
  public byte[] root() {
    return hashOf(root).clone();
  }

  public long size() {
    return size;
  }

  public Optional<Account> get(String accountId) {
    byte[] key = StateHashing.key(accountId);
    Node n = root;
    int depth = 0;
    while (n instanceof Branch b) {
      n = StateHashing.bit(key, depth++) == 0 ? b.left : b.right;
    }
    if (n instanceof Leaf leaf && Arrays.equals(leaf.key, key)) {
      return Optional.of(leaf.account);
    }
    return Optional.empty();
  }

  /**
   * A presence proof if the account exists, else an absence proof; {@code state_root} is set,
   * {@code applied_index} is left for the caller.
   */
  public Proof prove(String accountId) {
    ByteString rootHash = ByteString.copyFrom(hashOf(root));
    ProofKey cacheKey = new ProofKey(rootHash, accountId);
    Proof cached = proofs.getIfPresent(cacheKey);
    if (cached != null) {
      return cached;
    }
    Proof built = buildProof(accountId, rootHash);
    proofs.put(cacheKey, built);
    return built;
  }

  private Proof buildProof(String accountId, ByteString rootHash) {
    byte[] key = StateHashing.key(accountId);
    List<ByteString> siblings = new ArrayList<>();
    Node n = root;
    int depth = 0;
    while (n instanceof Branch b) {
      boolean right = StateHashing.bit(key, depth++) == 1;
      siblings.add(ByteString.copyFrom(hashOf(right ? b.left : b.right)));
      n = right ? b.right : b.left;
    }
    Proof.Builder p =
        Proof.newBuilder().setAccount(accountId).setStateRoot(rootHash).addAllSiblings(siblings);
    if (n instanceof Leaf leaf) {
      if (Arrays.equals(leaf.key, key)) {
        p.setPresent(true).setLeaf(leaf.account);
      } else {
        p.setOtherKey(ByteString.copyFrom(leaf.key))
            .setOtherValueHash(ByteString.copyFrom(StateHashing.valueHash(leaf.account)));
      }
    }
    return p.build();
  }

  /** Resizes the proof cache (hot configuration); 0 empties and disables it. */
  public void setProofCacheMaxBytes(long maxBytes) {
    proofs.policy().eviction().ifPresent(e -> e.setMaximum(maxBytes));
  }

  /** The proof cache's weight now, in the estimated bytes of {@link #weightOf}. */
  public long proofCacheBytes() {
    proofs.cleanUp(); // pending evictions first, so the figure is within the bound
    return proofs.policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L);
  }

  public CacheStats cacheStats() {
    return proofs.stats();
  }
}
