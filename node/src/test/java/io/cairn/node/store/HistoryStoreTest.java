package io.cairn.node.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.proto.DedupeRecord;
import io.cairn.proto.Mint;
import io.cairn.proto.Operation;
import io.cairn.proto.ResultCode;
import io.cairn.proto.StatementLine;
import io.cairn.proto.WatchResponse;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The history store on a real RocksDB: lookups by id, statements, reopening and checkpoints. */
class HistoryStoreTest {
  private static final HistoryStore.Settings SMALL = new HistoryStore.Settings(1 << 20, 1 << 20);

  @TempDir Path dir;

  private static Operation mint(String id, String account, long amount) {
    return Operation.newBuilder()
        .setId(id)
        .setCreatedAtMillis(1000)
        .setMint(Mint.newBuilder().setAccount(account).setAmount(amount))
        .build();
  }

  /** Entry {@code index} at time {@code index * 10}: one mint of 1 to each account. */
  private static void entry(HistoryStore s, long index, String... accounts) throws IOException {
    try (HistoryStore.Batch b = s.begin(index, index * 10)) {
      for (String a : accounts) {
        Operation op = mint("m-" + a + "-" + index, a, 1);
        b.operation(
            DedupeRecord.newBuilder()
                .setOperation(op)
                .setCode(ResultCode.OK)
                .setAppliedIndex(index)
                .build());
        b.line(a, StatementLine.newBuilder().setAppliedIndex(index).setOperation(op).build());
      }
      b.commit();
    }
  }

  private static List<Long> indexes(List<StatementLine> lines) {
    return lines.stream().map(StatementLine::getAppliedIndex).toList();
  }

  /** Entry {@code index} with only a Watch event naming {@code prev}. */
  private static void event(HistoryStore s, long index, long prev) throws IOException {
    try (HistoryStore.Batch b = s.begin(index, index * 10)) {
      b.watch(
          1, WatchResponse.newBuilder().setIndex(index).setPrevIndex(prev).build().toByteArray());
      b.commit();
    }
  }

  @Test
  void watchEventsAreReadInIndexOrderAndTheFloorIsTheOldestEventsPrevious() throws Exception {
    Path h = dir.resolve("h");
    try (HistoryStore s = HistoryStore.open(h, SMALL)) {
      assertEquals(0, s.watchFloor());
      assertEquals(7, s.lastWatchIndexAtOrBelow(7)); // none held: resume right there
      entry(s, 2, "a"); // an entry without an event
      event(s, 3, 0);
      event(s, 5, 3);
      event(s, 9, 5);
      List<HistoryStore.WatchEntry> all = s.watchAfter(0, 100);
      assertEquals(List.of(3L, 5L, 9L), all.stream().map(HistoryStore.WatchEntry::index).toList());
      assertEquals(5, WatchResponse.parseFrom(all.get(1).encoded()).getIndex());
      assertEquals(1, all.get(1).events());
      assertEquals(
          List.of(5L), s.watchAfter(3, 1).stream().map(HistoryStore.WatchEntry::index).toList());
      assertTrue(s.watchAfter(9, 10).isEmpty());
      assertEquals(5, s.lastWatchIndexAtOrBelow(8));
      assertEquals(9, s.lastWatchIndexAtOrBelow(100));
      assertEquals(0, s.lastWatchIndexAtOrBelow(2));
    }
    try (HistoryStore s = HistoryStore.open(h, SMALL)) {
      assertEquals(0, s.watchFloor());
      assertEquals(3, s.watchAfter(0, 100).size());
    }
  }

  @Test
  void aStoreWhoseEventsStartLateHasItsFloorThere() throws IOException {
    Path h = dir.resolve("h");
    try (HistoryStore s = HistoryStore.open(h, SMALL)) {
      entry(s, 4, "a");
    }
    try (HistoryStore s = HistoryStore.open(h, SMALL)) {
      assertEquals(4, s.watchFloor()); // entries through 4 left no events here
      event(s, 6, 4);
    }
    try (HistoryStore s = HistoryStore.open(h, SMALL)) {
      assertEquals(4, s.watchFloor());
      assertEquals(4, s.lastWatchIndexAtOrBelow(5));
    }
  }

  @Test
  void anOperationIsFoundOnlyByEntriesAfterItAndSurvivesAReopen() throws IOException {
    try (HistoryStore s = HistoryStore.open(dir.resolve("h"), SMALL)) {
      entry(s, 5, "a");
      assertEquals(5, s.appliedIndex());
      assertNotNull(s.find("m-a-5", 6));
      assertNull(s.find("m-a-5", 5), "entry 5 itself must not see its own operation");
      assertNull(s.find("nothing", Long.MAX_VALUE));
    }
    try (HistoryStore s = HistoryStore.open(dir.resolve("h"), SMALL)) {
      assertEquals(5, s.appliedIndex());
      assertEquals(ResultCode.OK, s.find("m-a-5", 6).getCode());
    }
  }

  @Test
  void aStatementPagesThroughOneAccountInLogOrderAndHonoursItsBounds() throws IOException {
    try (HistoryStore s = HistoryStore.open(dir.resolve("h"), SMALL)) {
      for (long i = 1; i <= 10; i++) {
        entry(s, i, "a", "ab", "b"); // "ab" shares a's first byte: it must not leak into a's lines
      }
      List<StatementLine> all = new ArrayList<>();
      byte[] token = new byte[0];
      int pages = 0;
      do {
        HistoryStore.Page p = s.statement(new HistoryStore.Query("a", 0, 0, 0, token, 3));
        all.addAll(p.lines());
        token = p.nextPageToken();
        pages++;
      } while (token.length > 0 && pages < 100);
      assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L), indexes(all));
      assertEquals(4, pages);
      assertEquals(
          List.of(3L, 4L, 5L),
          indexes(s.statement(new HistoryStore.Query("a", 3, 5, 0, new byte[0], 100)).lines()));
      // Entry i ran at time 10 * i: since 65 means entries 7 and later.
      assertEquals(
          List.of(7L, 8L, 9L, 10L),
          indexes(s.statement(new HistoryStore.Query("a", 0, 0, 65, new byte[0], 100)).lines()));
      assertTrue(
          s.statement(new HistoryStore.Query("a", 0, 0, 1000, new byte[0], 9)).lines().isEmpty());
      assertTrue(
          s.statement(new HistoryStore.Query("c", 0, 0, 0, new byte[0], 9)).lines().isEmpty());
    }
  }

  @Test
  void aCheckpointInstalledElsewhereHoldsExactlyTheEntriesThroughItsIndex() throws IOException {
    Path checkpoint = dir.resolve("checkpoint");
    try (HistoryStore s = HistoryStore.open(dir.resolve("h"), SMALL)) {
      entry(s, 1, "a");
      s.checkpoint(3, checkpoint); // entries 2 and 3 changed no account
      entry(s, 4, "a");
    }
    try (HistoryStore stale = HistoryStore.open(dir.resolve("third"), SMALL)) {
      entry(stale, 1, "q");
    }
    HistoryStore.installCheckpoint(checkpoint, dir.resolve("third"));
    try (HistoryStore s = HistoryStore.open(dir.resolve("third"), SMALL)) {
      assertEquals(3, s.appliedIndex());
      assertNotNull(s.find("m-a-1", 4));
      assertNull(s.find("m-a-4", Long.MAX_VALUE), "entry 4 came after the checkpoint");
      assertNull(s.find("m-q-1", Long.MAX_VALUE), "the replaced store's records must be gone");
    }
  }
}
