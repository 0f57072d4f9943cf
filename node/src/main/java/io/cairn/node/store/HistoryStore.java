package io.cairn.node.store;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cairn.node.ledger.History;
import io.cairn.proto.DedupeRecord;
import io.cairn.proto.StatementLine;
import io.cairn.proto.WatchResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Checkpoint;
import org.rocksdb.CompressionType;
import org.rocksdb.FlushOptions;
import org.rocksdb.IndexType;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The node's durable history in RocksDB: every applied operation with its result and log index,
 * every account's statement lines, and every ledger entry's Watch event, written as one {@link
 * WriteBatch} per log entry with RocksDB's WAL off (the Raft log is the WAL). The format (keys,
 * values, version) is in docs/internals.md, "The history store".
 *
 * <p>Durability: with the WAL off, what survives a crash is what RocksDB has flushed, which is
 * always a prefix of the batches (one column family, so a flush never splits a batch); {@link
 * #appliedIndex()} says how far. The state machine makes sure the store is flushed through every
 * snapshot's index before Ratis may purge the log behind it ({@link #checkpoint}), so the entries
 * after it are always still in the log to be applied again. Applying an entry twice writes the same
 * keys and values.
 *
 * <p>Threads: the apply thread writes; readers read concurrently (RocksDB is thread-safe); the
 * state machine's lock keeps a read and the applied index together.
 */
public final class HistoryStore implements History, AutoCloseable {
  /** The format this code writes and reads (key {@code Mformat}). */
  public static final int FORMAT_VERSION = 1;

  static final byte OPERATION = 'O';
  static final byte LINE = 'A';
  static final byte TIME = 'T';
  static final byte WATCH = 'W';
  private static final byte[] KEY_FORMAT = "Mformat".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] KEY_APPLIED = "Mapplied".getBytes(StandardCharsets.US_ASCII);
  private static final int TOKEN_BYTES = 12; // a line's index (8) and its place in the entry (4)

  static {
    RocksDB.loadLibrary();
  }

  /** Memory settings (config keys {@code store.*}). */
  public record Settings(long blockCacheBytes, long writeBufferBytes) {}

  /** A statement query; {@code pageToken} is empty to start; 0 means "no bound" for the rest. */
  public record Query(
      String account,
      long fromIndex,
      long toIndex,
      long sinceMillis,
      byte[] pageToken,
      int limit) {}

  /** One page of a statement; {@code nextPageToken} is empty when there is no more. */
  public record Page(List<StatementLine> lines, byte[] nextPageToken) {}

  /**
   * A ledger entry's Watch event as stored: its log index, its number of operation events, and the
   * encoded {@code WatchResponse} without {@code node_id} (the serving node adds its own).
   */
  public record WatchEntry(long index, int events, byte[] encoded) {}

  private final Path dir;
  private final LRUCache cache;
  private final BloomFilter bloom;
  private final Options options;
  private final WriteOptions writeOptions = new WriteOptions().setDisableWAL(true);
  private final RocksDB db;
  private volatile long appliedIndex;
  private final long watchFloor;

  private HistoryStore(Path dir, Settings s) throws IOException {
    this.dir = dir;
    // Four shards, not RocksDB's default 64: a block larger than its shard cannot stay cached,
    // and with 64 shards of a 32 MiB cache (512 KiB each) every SST's filter was read from disk
    // again on each lookup of a new id (97-280 us a lookup instead of 2; docs/benchmarks.md).
    this.cache = new LRUCache(s.blockCacheBytes(), 2);
    this.bloom = new BloomFilter(10);
    BlockBasedTableConfig table =
        new BlockBasedTableConfig()
            .setBlockCache(cache)
            .setFilterPolicy(bloom)
            // Index and filter blocks live in the block cache, so its size bounds them too; they
            // are partitioned into 4 KiB blocks under a small pinned top level, so a lookup loads
            // only the partition it needs and no single block outgrows a cache shard.
            .setCacheIndexAndFilterBlocks(true)
            .setCacheIndexAndFilterBlocksWithHighPriority(true)
            .setPinL0FilterAndIndexBlocksInCache(true)
            .setIndexType(IndexType.kTwoLevelIndexSearch)
            .setPartitionFilters(true)
            .setMetadataBlockSize(4096)
            .setPinTopLevelIndexAndFilter(true);
    this.options =
        new Options()
            .setCreateIfMissing(true)
            .setTableFormatConfig(table)
            .setWriteBufferSize(s.writeBufferBytes())
            .setMaxWriteBufferNumber(2)
            .setMaxBackgroundJobs(2)
            .setMaxOpenFiles(512)
            .setCompressionType(CompressionType.LZ4_COMPRESSION)
            .setKeepLogFileNum(3);
    try {
      Files.createDirectories(dir);
      this.db = RocksDB.open(options, dir.toString());
      byte[] format = db.get(KEY_FORMAT);
      if (format == null) {
        db.put(KEY_FORMAT, ByteBuffer.allocate(4).putInt(FORMAT_VERSION).array());
      } else if (ByteBuffer.wrap(format).getInt() != FORMAT_VERSION) {
        throw new IOException(
            "history store "
                + dir
                + " has format "
                + ByteBuffer.wrap(format).getInt()
                + "; this node reads format "
                + FORMAT_VERSION);
      }
      byte[] applied = db.get(KEY_APPLIED);
      this.appliedIndex = applied == null ? 0 : ByteBuffer.wrap(applied).getLong();
      this.watchFloor = findWatchFloor();
    } catch (RocksDBException e) {
      closeOptions();
      throw new IOException("cannot open the history store " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Opens (or creates) the store in {@code dir}. */
  public static HistoryStore open(Path dir, Settings s) throws IOException {
    return new HistoryStore(dir, s);
  }

  public Path dir() {
    return dir;
  }

  /** The log index through which this store holds every applied entry (0 for none). */
  public long appliedIndex() {
    return appliedIndex;
  }

  // ---- writes ----

  /** The writes of one log entry, made durable together by {@link #commit}. */
  public final class Batch implements AutoCloseable {
    private final WriteBatch batch = new WriteBatch();
    private final long index;
    private final long timeMillis;
    private int seq;
    private byte[] watch;

    private Batch(long index, long timeMillis) {
      this.index = index;
      this.timeMillis = timeMillis;
    }

    /** Remembers an applied (or refused and recorded) operation under its id. */
    public void operation(DedupeRecord r) throws IOException {
      put(Keys.operation(r.getOperation().getId()), r.toByteArray());
    }

    /** Adds the next line of {@code account}'s statement for this entry. */
    public void line(String account, StatementLine line) throws IOException {
      put(Keys.line(account, index, seq++), line.toByteArray());
    }

    /**
     * Stores the entry's Watch event ({@code encoded}: a {@code WatchResponse} without {@code
     * node_id}, holding {@code events} operation events).
     */
    public void watch(int events, byte[] encoded) {
      watch = ByteBuffer.allocate(4 + encoded.length).putInt(events).put(encoded).array();
    }

    private void put(byte[] key, byte[] value) throws IOException {
      try {
        batch.put(key, value);
      } catch (RocksDBException e) {
        throw new IOException("history batch for entry " + index + ": " + e.getMessage(), e);
      }
    }

    /** Writes the entry (its lines' time index and the applied index with it) in one batch. */
    public void commit() throws IOException {
      if (batch.count() > 0) {
        put(Keys.time(timeMillis, index), new byte[0]);
      }
      if (watch != null) {
        put(Keys.watch(index), watch);
      }
      put(KEY_APPLIED, Keys.be8(index));
      try {
        db.write(writeOptions, batch);
      } catch (RocksDBException e) {
        throw new IOException("history write of entry " + index + ": " + e.getMessage(), e);
      }
      appliedIndex = index;
    }

    @Override
    public void close() {
      batch.close();
    }
  }

  /** Starts the writes of entry {@code index}, applied at ledger time {@code timeMillis}. */
  public Batch begin(long index, long timeMillis) {
    return new Batch(index, timeMillis);
  }

  /**
   * Makes the store durable through {@code index} and copies it, as hard links, into {@code target}
   * (which must not exist): the checkpoint that goes with the snapshot at {@code index}. Called on
   * the apply thread, so nothing is written meanwhile.
   */
  public void checkpoint(long index, Path target) throws IOException {
    try (FlushOptions flush = new FlushOptions().setWaitForFlush(true);
        Checkpoint cp = Checkpoint.create(db)) {
      // Entries that touched no ledger state (configuration changes) leave no batch: the snapshot's
      // index is still covered.
      db.put(writeOptions, KEY_APPLIED, Keys.be8(Math.max(index, appliedIndex)));
      appliedIndex = Math.max(index, appliedIndex);
      db.flush(flush);
      cp.createCheckpoint(target.toString());
    } catch (RocksDBException e) {
      throw new IOException("checkpoint of the history store at " + index + ": " + e, e);
    }
  }

  /**
   * Replaces the store in {@code live} (closed) with a copy of {@code checkpoint}: SST files as
   * hard links (they never change), the rest copied; files Ratis added (its {@code .md5}) left out.
   */
  public static void installCheckpoint(Path checkpoint, Path live) throws IOException {
    Path tmp = live.resolveSibling(live.getFileName() + ".installing");
    Files.deleteIfExists(live.resolveSibling(live.getFileName() + ".old"));
    deleteTreeIfExists(tmp);
    Files.createDirectories(tmp);
    try (var files = Files.list(checkpoint)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String name = f.getFileName().toString();
        if (name.endsWith(".md5")) {
          continue;
        }
        if (name.endsWith(".sst")) {
          try {
            Files.createLink(tmp.resolve(name), f);
            continue;
          } catch (IOException | UnsupportedOperationException e) {
            // another file system: copy instead
          }
        }
        Files.copy(f, tmp.resolve(name));
      }
    }
    deleteTreeIfExists(live);
    Files.move(tmp, live, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** Removes {@code p} and everything under it; nothing if it does not exist. */
  public static void deleteTreeIfExists(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (var walk = Files.walk(p)) {
      for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
  }

  // ---- reads ----

  @Override
  public DedupeRecord find(String id, long beforeIndex) {
    byte[] value;
    try {
      value = db.get(Keys.operation(id));
    } catch (RocksDBException e) {
      throw new IllegalStateException("history read of '" + id + "': " + e.getMessage(), e);
    }
    if (value == null) {
      return null;
    }
    DedupeRecord r = parse(value, id);
    return r.getAppliedIndex() < beforeIndex ? r : null;
  }

  /** The store keeps every applied operation (no history retention is configured yet). */
  @Override
  public boolean complete() {
    return true;
  }

  /** One page of {@code q.account()}'s statement, in log order. */
  public Page statement(Query q) {
    byte[] prefix = Keys.linePrefix(q.account());
    long from = Math.max(q.fromIndex(), firstIndexAtOrAfter(q.sinceMillis()));
    byte[] start = Keys.line(q.account(), from, 0);
    byte[] after = null;
    if (q.pageToken().length == TOKEN_BYTES) {
      after = Keys.concat(prefix, q.pageToken());
      if (Arrays.compareUnsigned(after, start) >= 0) {
        start = after;
      }
    }
    List<StatementLine> lines = new ArrayList<>(Math.min(q.limit(), 1024));
    byte[] last = null;
    try (RocksIterator it = db.newIterator()) {
      for (it.seek(start); it.isValid(); it.next()) {
        byte[] key = it.key();
        if (!Keys.startsWith(key, prefix)) {
          break;
        }
        if (after != null && Arrays.equals(key, after)) {
          continue;
        }
        long index = Keys.lineIndex(key, prefix.length);
        if (q.toIndex() > 0 && index > q.toIndex()) {
          break;
        }
        if (lines.size() == q.limit()) {
          return new Page(lines, Arrays.copyOfRange(last, prefix.length, last.length));
        }
        lines.add(parseLine(it.value(), q.account()));
        last = key;
      }
    }
    return new Page(lines, new byte[0]);
  }

  /**
   * Up to {@code max} stored Watch events with index greater than {@code after}, oldest first.
   * Every ledger entry after {@link #watchFloor()} is there, each naming the one before it.
   */
  public List<WatchEntry> watchAfter(long after, int max) {
    List<WatchEntry> out = new ArrayList<>(Math.min(max, 64));
    try (RocksIterator it = db.newIterator()) {
      for (it.seek(Keys.watch(after + 1)); it.isValid() && out.size() < max; it.next()) {
        byte[] key = it.key();
        if (key.length != 9 || key[0] != WATCH) {
          break;
        }
        byte[] v = it.value();
        int events = ByteBuffer.wrap(v, 0, 4).getInt();
        out.add(new WatchEntry(Keys.watchIndex(key), events, Arrays.copyOfRange(v, 4, v.length)));
      }
    }
    return out;
  }

  /**
   * The index after which the store holds every ledger entry's Watch event: the previous index of
   * the oldest event it holds (0 for a store that has held them from the cluster's first entry),
   * or, for a store with none, its applied index.
   */
  public long watchFloor() {
    return watchFloor;
  }

  /**
   * The newest ledger entry at or below {@code index} with a Watch event here: what the next event
   * names as its previous entry when applying resumes after {@code index}. With none at or below
   * it, the previous index of the oldest event held, or {@code index} itself for a store with none.
   */
  public long lastWatchIndexAtOrBelow(long index) {
    try (RocksIterator it = db.newIterator()) {
      it.seekForPrev(Keys.watch(index));
      if (it.isValid() && it.key().length == 9 && it.key()[0] == WATCH) {
        return Keys.watchIndex(it.key());
      }
    }
    long floor = oldestWatchPrevIndex();
    return floor < 0 ? index : Math.min(floor, index);
  }

  private long findWatchFloor() {
    long prev = oldestWatchPrevIndex();
    return prev < 0 ? appliedIndex : prev;
  }

  /** The prev_index of the oldest stored Watch event; -1 when there is none. */
  private long oldestWatchPrevIndex() {
    try (RocksIterator it = db.newIterator()) {
      it.seek(Keys.watch(0));
      if (!it.isValid() || it.key().length != 9 || it.key()[0] != WATCH) {
        return -1;
      }
      byte[] v = it.value();
      return WatchResponse.parseFrom(ByteBuffer.wrap(v, 4, v.length - 4)).getPrevIndex();
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("history store " + dir + ": unreadable Watch event", e);
    }
  }

  /** Whether {@code token} could have come from {@link #statement} (length only). */
  public static boolean validPageToken(byte[] token) {
    return token.length == 0 || token.length == TOKEN_BYTES;
  }

  /** The index of the first entry with lines at or after ledger time {@code millis}. */
  private long firstIndexAtOrAfter(long millis) {
    if (millis <= 0) {
      return 0;
    }
    try (RocksIterator it = db.newIterator()) {
      it.seek(Keys.time(millis, 0));
      if (!it.isValid() || it.key()[0] != TIME) {
        return Long.MAX_VALUE;
      }
      return ByteBuffer.wrap(it.key(), 9, 8).getLong();
    }
  }

  private DedupeRecord parse(byte[] value, String id) {
    try {
      return DedupeRecord.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("history record of '" + id + "' is corrupt", e);
    }
  }

  private StatementLine parseLine(byte[] value, String account) {
    try {
      return StatementLine.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("statement line of '" + account + "' is corrupt", e);
    }
  }

  /** Approximate bytes on disk and in memtables, for the metrics. */
  public long approximateBytes(String property) {
    try {
      return db.getLongProperty(property);
    } catch (RocksDBException e) {
      return -1;
    }
  }

  /** Flushes what is in memory (a clean stop then replays nothing) and closes. */
  @Override
  public void close() {
    try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
      db.flush(flush);
    } catch (RocksDBException e) {
      // The log still holds every entry after the last flush: the next start applies them again.
    }
    db.close();
    closeOptions();
  }

  private void closeOptions() {
    writeOptions.close();
    options.close();
    bloom.close();
    cache.close();
  }
}
