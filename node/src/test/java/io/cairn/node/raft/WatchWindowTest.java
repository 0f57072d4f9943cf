package io.cairn.node.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.proto.WatchResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

class WatchWindowTest {
  static WatchResponse entry(WatchWindow w, long index) {
    return WatchResponse.newBuilder().setIndex(index).setPrevIndex(w.lastIndex()).build();
  }

  static List<Long> indexes(WatchWindow.Slice s) {
    return s.entries().stream().map(WatchWindow.Entry::index).toList();
  }

  /** The prev_index of the first entry of a slice, as a watcher would decode it. */
  static long firstPrev(WatchWindow.Slice s) throws Exception {
    return WatchResponse.parseFrom(s.entries().get(0).encoded()).getPrevIndex();
  }

  @Test
  void readsEntriesAfterACursorAcrossNonContiguousIndexes() throws Exception {
    WatchWindow w = new WatchWindow(10, 1 << 20);
    for (long i : new long[] {2, 3, 5, 9}) {
      w.append(entry(w, i));
    }
    assertEquals(List.of(2L, 3L, 5L, 9L), indexes(w.after(0, 100)));
    assertEquals(List.of(5L, 9L), indexes(w.after(3, 100)));
    assertEquals(List.of(5L, 9L), indexes(w.after(4, 100)));
    assertEquals(List.of(5L), indexes(w.after(4, 1)));
    assertTrue(w.after(9, 100).entries().isEmpty());
    assertTrue(w.after(50, 100).entries().isEmpty());
    assertEquals(3, firstPrev(w.after(3, 1)));
  }

  @Test
  void evictionRaisesTheFloorAndReadersBehindItAreCompacted() {
    WatchWindow w = new WatchWindow(3, 1 << 20);
    for (long i = 1; i <= 5; i++) {
      w.append(entry(w, i));
    }
    assertEquals(3, w.size());
    assertEquals(3, w.oldestAvailable()); // 1 and 2 evicted
    WatchWindow.Slice s = w.after(1, 10);
    assertTrue(s.compacted());
    assertEquals(3, s.oldestAvailable());
    assertFalse(w.after(2, 10).compacted());
    assertEquals(List.of(3L, 4L, 5L), indexes(w.after(2, 10)));
  }

  @Test
  void theByteBoundEvictsButKeepsTheNewestEntry() {
    WatchResponse big = WatchResponse.newBuilder().setIndex(1).setNodeId("x".repeat(200)).build();
    WatchWindow w = new WatchWindow(100, 100);
    w.append(big);
    assertEquals(1, w.size());
    w.append(big.toBuilder().setIndex(2).setPrevIndex(1).build());
    assertEquals(1, w.size());
    assertEquals(2, w.oldestAvailable());
    assertTrue(w.bytes() <= 300);
  }

  @Test
  void aSnapshotLoadStartsTheWindowAtTheSnapshot() throws Exception {
    WatchWindow w = new WatchWindow(10, 1 << 20);
    w.append(entry(w, 1));
    w.reset(40);
    assertTrue(w.after(10, 10).compacted());
    assertEquals(41, w.oldestAvailable());
    w.append(entry(w, 42));
    assertEquals(40, firstPrev(w.after(40, 10)));
  }

  @Test
  void anEntryOutOfOrderRestartsTheWindowInsteadOfThrowing() throws Exception {
    WatchWindow w = new WatchWindow(10, 1 << 20);
    w.append(entry(w, 5));
    w.append(WatchResponse.newBuilder().setIndex(3).setPrevIndex(5).build());
    assertEquals(3, w.lastIndex());
    assertTrue(w.after(1, 10).compacted());
    assertEquals(2, firstPrev(w.after(2, 10)));
  }

  @Test
  void readersBelowTheFloorAreServedByTheBackfill() {
    WatchWindow w = new WatchWindow(2, 1 << 20);
    for (long i = 1; i <= 4; i++) {
      w.append(entry(w, i));
    }
    assertTrue(w.after(1, 10).compacted());
    List<long[]> asked = new java.util.ArrayList<>();
    w.backfill(
        new WatchWindow.Backfill() {
          @Override
          public WatchWindow.Slice after(long after, int max) {
            asked.add(new long[] {after, max});
            return new WatchWindow.Slice(
                List.of(new WatchWindow.Entry(after + 1, 1, new byte[0])), false, 1);
          }

          @Override
          public long oldestAvailable() {
            return 1;
          }
        });
    assertEquals(1, w.oldestAvailable());
    assertEquals(List.of(2L), indexes(w.after(1, 10)));
    assertEquals(1, asked.size());
    assertEquals(List.of(3L, 4L), indexes(w.after(2, 10))); // at the floor: the window's own
    assertEquals(1, asked.size());
  }

  @Test
  void aDisabledWindowRecordsNothing() {
    WatchWindow w = WatchWindow.disabled();
    w.append(entry(w, 1));
    assertFalse(w.enabled());
    assertEquals(0, w.size());
    assertEquals(0, w.lastIndex());
  }
}
