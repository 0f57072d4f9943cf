package io.cairn.node.api;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts held things against two caps: one in all and one per key (a peer address's connections, a
 * principal's Watch streams). Each key's count changes inside the map's own atomic update, so a
 * release that empties a key cannot race an acquire of the same key.
 */
final class KeyedCaps<K> {
  /** Which cap refused an acquire. */
  enum Refusal {
    TOTAL,
    PER_KEY
  }

  private final int maxTotal;
  private final int maxPerKey;
  private final AtomicInteger total = new AtomicInteger();
  private final ConcurrentHashMap<K, Integer> perKey = new ConcurrentHashMap<>();

  KeyedCaps(int maxTotal, int maxPerKey) {
    this.maxTotal = maxTotal;
    this.maxPerKey = maxPerKey;
  }

  /** Counts one more for {@code key}: null when both caps allow it, else the cap that refused. */
  Refusal tryAcquire(K key) {
    if (total.incrementAndGet() > maxTotal) {
      total.decrementAndGet();
      return Refusal.TOTAL;
    }
    boolean[] refused = {false};
    perKey.compute(
        key,
        (k, n) -> {
          int held = n == null ? 0 : n;
          if (held >= maxPerKey) {
            refused[0] = true;
            return n;
          }
          return held + 1;
        });
    if (refused[0]) {
      total.decrementAndGet();
      return Refusal.PER_KEY;
    }
    return null;
  }

  /** Gives back one acquired for {@code key}. */
  void release(K key) {
    perKey.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
    total.decrementAndGet();
  }

  int total() {
    return total.get();
  }
}
