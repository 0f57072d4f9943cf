package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.CairnException;
import io.cairn.client.Ops;
import io.cairn.client.OutcomeUnknownException;
import io.cairn.proto.Account;
import io.cairn.proto.GetTransferResponse;
import io.cairn.proto.ListAccountsResponse;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ResultCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Concurrent transfers between a fixed set of accounts, remembering every acknowledged result and
 * every unknown outcome, and a checker that compares them with the final ledger: every acknowledged
 * transfer is there exactly once, and replaying exactly the applied transfers from the initial
 * balances gives the final balances (so nothing was lost, duplicated or invented).
 */
final class TransferLoad {
  record Planned(String id, String from, String to, long amount) {}

  private final String prefix;
  private final int accounts;
  private final long initialBalance;
  final Map<String, Planned> planned = new ConcurrentHashMap<>();
  final Map<String, ResultCode> acked = new ConcurrentHashMap<>();
  final Map<String, Boolean> unknown = new ConcurrentHashMap<>();
  final AtomicLong failures = new AtomicLong();
  private final AtomicBoolean stop = new AtomicBoolean();

  TransferLoad(String prefix, int accounts, long initialBalance) {
    this.prefix = prefix;
    this.accounts = accounts;
    this.initialBalance = initialBalance;
  }

  String account(int i) {
    return prefix + "-acct-" + i;
  }

  void setUp(CairnClient client) {
    for (int i = 0; i < accounts; i++) {
      assertEquals(ResultCode.OK, client.createAccount(account(i)).getCode());
      assertEquals(ResultCode.OK, client.mint(account(i), initialBalance).getCode());
    }
  }

  /** Runs {@code threads} workers for at most {@code duration}, or until {@link #stop()}. */
  List<Thread> start(CairnClient client, int threads, Duration duration) {
    long deadline = System.nanoTime() + duration.toNanos();
    List<Thread> workers = new ArrayList<>();
    for (int w = 0; w < threads; w++) {
      int worker = w;
      Thread t =
          new Thread(
              () -> {
                SplittableRandom rnd = new SplittableRandom(worker * 7919L + 17);
                long seq = 0;
                while (!stop.get() && System.nanoTime() < deadline) {
                  int a = rnd.nextInt(accounts);
                  int b = (a + 1 + rnd.nextInt(accounts - 1)) % accounts;
                  Planned p =
                      new Planned(
                          prefix + "-w" + worker + "-" + seq++,
                          account(a),
                          account(b),
                          1 + rnd.nextInt(20));
                  planned.put(p.id(), p);
                  try {
                    OperationResult r =
                        client.single(Ops.transfer(p.id(), p.from(), p.to(), p.amount()));
                    acked.put(p.id(), r.getCode());
                  } catch (OutcomeUnknownException e) {
                    unknown.put(p.id(), true);
                  } catch (CairnException e) {
                    // A definite failure before the log: nothing may be applied for this id.
                    failures.incrementAndGet();
                    unknown.put(p.id(), true);
                  }
                }
              },
              "load-" + w);
      t.setDaemon(true);
      t.start();
      workers.add(t);
    }
    return workers;
  }

  void stop() {
    stop.set(true);
  }

  static void join(List<Thread> workers, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Thread t : workers) {
      t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
      assertTrue(!t.isAlive(), "worker " + t.getName() + " did not stop");
    }
  }

  long okCount() {
    return acked.values().stream().filter(c -> c == ResultCode.OK).count();
  }

  /** The checker; returns the number of transfers found applied. */
  /**
   * Every planned id, looked up linearizably by 16 callers at once: concurrent reads share their
   * barrier entries, so ten thousand look-ups take seconds, not minutes.
   */
  private Map<String, GetTransferResponse> lookUpAll(CairnClient client) {
    Map<String, GetTransferResponse> out = new ConcurrentHashMap<>();
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(16);
    try {
      List<java.util.concurrent.Future<?>> pending = new ArrayList<>();
      for (String id : planned.keySet()) {
        pending.add(pool.submit(() -> out.put(id, client.getTransfer(id))));
      }
      for (java.util.concurrent.Future<?> f : pending) {
        f.get(120, java.util.concurrent.TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      throw new AssertionError("looking up the planned transfers failed", e);
    } finally {
      pool.shutdownNow();
    }
    return out;
  }

  long verify(CairnClient client) {
    Map<String, Long> expected = new HashMap<>();
    for (int i = 0; i < accounts; i++) {
      expected.put(account(i), initialBalance);
    }
    long applied = 0;
    Map<String, GetTransferResponse> looked = lookUpAll(client);
    for (Planned p : planned.values()) {
      GetTransferResponse r = looked.get(p.id());
      ResultCode ack = acked.get(p.id());
      if (ack != null) {
        assertTrue(r.getFound(), "acknowledged transfer " + p.id() + " (" + ack + ") is lost");
        assertEquals(ack, r.getResult().getCode(), "stored result differs from the ack: " + p.id());
      }
      if (r.getFound() && r.getResult().getCode() == ResultCode.OK) {
        applied++;
        expected.merge(p.from(), -p.amount(), Long::sum);
        expected.merge(p.to(), p.amount(), Long::sum);
      }
    }
    Map<String, Long> actual = new HashMap<>();
    String after = "";
    while (true) {
      ListAccountsResponse page = client.listAccounts(after, 1000);
      for (Account a : page.getAccountsList()) {
        if (a.getId().startsWith(prefix + "-acct-")) {
          actual.put(a.getId(), a.getBalance());
        }
      }
      if (page.getNextStartAfter().isEmpty()) {
        break;
      }
      after = page.getNextStartAfter();
    }
    assertEquals(expected, actual, "final balances differ from a replay of the applied transfers");
    var summary = client.summary();
    assertEquals(summary.getTotalMinted() - summary.getTotalBurned(), summary.getTotalBalance());
    return applied;
  }
}
