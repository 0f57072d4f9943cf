package io.cairn.node.raft;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cairn.proto.WatchResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * The node's bounded, in-memory window of recent ledger entries for {@code Watch}: the newest
 * entries this node applied, at most {@code maxEntries} of them and at most {@code maxBytes} of
 * encoded messages (the newest entry is always kept, even alone over the byte bound). Entries are
 * held encoded, once: the byte bound is the real memory cost, and a thousand watchers send the same
 * bytes without encoding them a thousand times.
 *
 * <p>The window covers the log indexes {@code (floor, lastIndex]} completely: every ledger entry in
 * that range is held. {@code floor} starts at the index of the snapshot the node loaded (0 without
 * one) and rises as old entries are evicted, so a reader that wants an entry at or below it is told
 * COMPACTED instead of being handed a gap.
 *
 * <p>Older entries come from a {@link Backfill} when one is set (the history store, which keeps
 * every entry's event): a reader below the floor is served from it, and COMPACTED then means below
 * the backfill's own floor.
 *
 * <p>Threads: the state machine appends on its apply thread; watch streams read from their own
 * threads. All access is under this object's monitor and every call is short.
 */
public final class WatchWindow {
  /** One encoded {@code WatchResponse} with the fields readers need without decoding it. */
  public record Entry(long index, int events, byte[] encoded) {}

  /** A read result: entries after the cursor, or the floor when the cursor fell out. */
  public record Slice(List<Entry> entries, boolean compacted, long oldestAvailable) {}

  /** Where entries older than the window come from. Called outside the window's monitor. */
  public interface Backfill {
    /** Up to {@code max} entries after {@code after}, or compacted below its own floor. */
    Slice after(long after, int max);

    /** The lowest {@code from_index} it can serve. */
    long oldestAvailable();
  }

  private final boolean enabled;
  private final int maxEntries;
  private final long maxBytes;
  private final Entry[] ring;
  private int head; // slot of the oldest entry
  private int count;
  private long bytes;
  private long floor;
  private long lastIndex;
  private Runnable onAppend = () -> {};
  private volatile Backfill backfill;

  public WatchWindow(int maxEntries, long maxBytes) {
    this(true, maxEntries, maxBytes);
  }

  private WatchWindow(boolean enabled, int maxEntries, long maxBytes) {
    if (maxEntries < 1 || maxBytes < 1) {
      throw new IllegalArgumentException("watch window bounds must be positive");
    }
    this.enabled = enabled;
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
    this.ring = new Entry[maxEntries];
  }

  /** A window that records nothing ({@code watch.enabled=0}): apply pays nothing for Watch. */
  public static WatchWindow disabled() {
    return new WatchWindow(false, 1, 1);
  }

  /** False when Watch is switched off on this node; then nothing is ever appended. */
  public boolean enabled() {
    return enabled;
  }

  /** Serves readers below the window from {@code source} from now on. */
  void backfill(Backfill source) {
    this.backfill = source;
  }

  /** Called (outside the monitor, on the apply thread) after each append; must not block. */
  public synchronized void onAppend(Runnable listener) {
    this.onAppend = listener;
  }

  /** Appends {@code entry}, encoding it (tests and tools; the state machine hands bytes). */
  void append(WatchResponse entry) {
    append(entry.getIndex(), entry.getPrevIndex(), entry.getEventsCount(), entry.toByteArray());
  }

  /**
   * Appends the entry just applied: its index, the previous ledger entry's index (which should be
   * {@link #lastIndex()}), its number of events and its encoded {@code WatchResponse}. Never
   * throws: it runs inside apply. An entry that does not follow on (which Raft's ordering rules
   * out) starts the window afresh and is re-encoded to name the new floor as its previous entry, so
   * readers behind it are served by the backfill or hear COMPACTED, never a gap.
   */
  void append(long index, long prevIndex, int events, byte[] encoded) {
    if (!enabled) {
      return;
    }
    Runnable listener;
    synchronized (this) {
      if (index <= lastIndex) {
        reset(index - 1);
      }
      if (prevIndex != lastIndex) {
        encoded = withPrevIndex(encoded, lastIndex);
        if (encoded == null) {
          reset(index);
          return;
        }
      }
      int size = encoded.length;
      while (count > 0 && (count >= maxEntries || bytes + size > maxBytes)) {
        evictOldest();
      }
      ring[(head + count) % maxEntries] = new Entry(index, events, encoded);
      count++;
      bytes += size;
      lastIndex = index;
      listener = onAppend;
    }
    listener.run();
  }

  /** {@code encoded} with prev_index set to {@code prev}; null when it does not parse. */
  private static byte[] withPrevIndex(byte[] encoded, long prev) {
    try {
      return WatchResponse.parseFrom(encoded).toBuilder().setPrevIndex(prev).build().toByteArray();
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  private void evictOldest() {
    floor = ring[head].index();
    bytes -= ring[head].encoded().length;
    ring[head] = null;
    head = (head + 1) % maxEntries;
    count--;
  }

  /** Drops everything: the node now holds a snapshot at {@code index} and nothing before it. */
  synchronized void reset(long index) {
    for (int i = 0; i < count; i++) {
      ring[(head + i) % maxEntries] = null;
    }
    head = 0;
    count = 0;
    bytes = 0;
    floor = index;
    lastIndex = index;
  }

  /** The index of the newest entry held (the floor when empty). */
  public synchronized long lastIndex() {
    return lastIndex;
  }

  /** The lowest {@code from_index} a watcher can start at now. */
  public long oldestAvailable() {
    Backfill b = backfill;
    if (b != null) {
      return b.oldestAvailable();
    }
    synchronized (this) {
      return floor + 1;
    }
  }

  public synchronized int size() {
    return count;
  }

  public synchronized long bytes() {
    return bytes;
  }

  /**
   * Up to {@code max} entries with index greater than {@code after}, oldest first; compacted when
   * entries the reader has not seen were evicted (or predate this node's snapshot).
   */
  public Slice after(long after, int max) {
    Backfill b = backfill;
    synchronized (this) {
      if (after >= floor || b == null) {
        return inWindow(after, max);
      }
    }
    return b.after(after, max);
  }

  private Slice inWindow(long after, int max) {
    if (after < floor) {
      return new Slice(List.of(), true, floor + 1);
    }
    if (after >= lastIndex || count == 0) {
      return new Slice(List.of(), false, floor + 1);
    }
    int first = firstAfter(after);
    int n = Math.min(max, count - first);
    List<Entry> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(ring[(head + first + i) % maxEntries]);
    }
    return new Slice(out, false, floor + 1);
  }

  /** Position (0 = oldest) of the first entry with index greater than {@code after}. */
  private int firstAfter(long after) {
    int lo = 0;
    int hi = count;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (ring[(head + mid) % maxEntries].index() <= after) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
}
