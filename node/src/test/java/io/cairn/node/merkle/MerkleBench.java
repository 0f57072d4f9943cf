package io.cairn.node.merkle;

import io.cairn.proto.Account;
import io.cairn.proto.Proof;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Merkle tree benchmark (a main, not a test): root update cost per changed account and proofs
 * served per second, at the sizes given (default 100000 and 1000000 accounts). Prints medians and
 * p99 over repeated rounds. Run with scripts/bench-merkle.
 */
public final class MerkleBench {
  private MerkleBench() {}

  public static void main(String[] args) {
    int[] sizes =
        args.length == 0
            ? new int[] {100_000, 1_000_000}
            : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
    for (int n : sizes) {
      run(n);
    }
  }

  static Account account(int i, long balance, long version) {
    return Account.newBuilder().setId("acct-" + i).setBalance(balance).setVersion(version).build();
  }

  static void run(int n) {
    SplittableRandom rnd = new SplittableRandom(42);
    List<Account> all = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      all.add(account(i, 1000, 1));
    }
    long t0 = System.nanoTime();
    MerkleTree tree = MerkleTree.build(all, 256L << 20);
    tree.root();
    System.out.printf(
        "n=%,d accounts: build %.0f ms, heap used %.0f MB%n",
        n, (System.nanoTime() - t0) / 1e6, usedMb());
    for (int batch : new int[] {1, 100, 1000}) {
      int rounds = batch == 1 ? 20_000 : batch == 100 ? 400 : 60;
      double[] perAccountMicros = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        List<Account> changed = new ArrayList<>(batch);
        for (int k = 0; k < batch; k++) {
          changed.add(account(rnd.nextInt(n), rnd.nextLong(1_000_000), r + 2));
        }
        long s = System.nanoTime();
        tree.putAll(changed);
        tree.root();
        perAccountMicros[r] = (System.nanoTime() - s) / 1e3 / batch;
      }
      print("  root update, batches of " + batch + ": us per changed account", perAccountMicros);
    }
    proofs(tree, n, rnd, false);
    proofs(tree, n, rnd, true);
  }

  /** Proofs/s over 1-second rounds; warm = the same 10,000 ids again (served from the cache). */
  static void proofs(MerkleTree tree, int n, SplittableRandom rnd, boolean warm) {
    int hot = 10_000;
    int[] ids = new int[hot];
    for (int i = 0; i < hot; i++) {
      ids[i] = rnd.nextInt(n);
    }
    String[] names = new String[hot];
    for (int i = 0; i < hot; i++) {
      names[i] = "acct-" + ids[i];
    }
    if (warm) {
      for (String s : names) {
        tree.prove(s);
      }
    }
    double[] perSecond = new double[5];
    long sink = 0;
    for (int r = 0; r < perSecond.length; r++) {
      long end = System.nanoTime() + 1_000_000_000L;
      long count = 0;
      while (System.nanoTime() < end) {
        String id = warm ? names[(int) (count % hot)] : "acct-" + rnd.nextInt(n);
        Proof p = tree.prove(id);
        sink += p.getSiblingsCount();
        count++;
      }
      perSecond[r] = count;
    }
    print("  proofs/s, " + (warm ? "warm (cache hits)" : "cold (random ids)"), perSecond);
    if (sink == 42) {
      System.out.println();
    }
  }

  static void print(String what, double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    System.out.printf(
        "%s: median %.2f, p99 %.2f (%d rounds)%n",
        what, s[s.length / 2], s[Math.min(s.length - 1, (int) (s.length * 0.99))], s.length);
  }

  static double usedMb() {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return (rt.totalMemory() - rt.freeMemory()) / 1e6;
  }
}
