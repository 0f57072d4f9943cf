package io.cairn.node.raft;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.cairn.node.ledger.Caller;
import io.cairn.node.ledger.Ledger;
import io.cairn.node.ledger.LedgerLimits;
import io.cairn.node.ledger.OpResult;
import io.cairn.node.merkle.MerkleTree;
import io.cairn.node.metrics.NodeMetrics;
import io.cairn.node.store.HistoryStore;
import io.cairn.proto.Account;
import io.cairn.proto.BackupManifest;
import io.cairn.proto.Role;
import io.cairn.proto.SnapshotHeader;
import io.cairn.proto.Stamp;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.WatchResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ratis glue around the pure {@link Ledger} and {@link MerkleTree}: takes each entry's {@link
 * LedgerCommand}, applies its requests, updates the tree once per entry, and hands the results
 * ({@link EntryResults}) back to the waiting write in-process. Snapshots are the {@link
 * SnapshotStore}'s; Watch events are built by {@link WatchEvents}.
 *
 * <p>Threads: Ratis applies entries one at a time on its updater thread, under the write lock. API
 * threads read under the read lock, so an account, the applied index and the root in one reply
 * always belong together. A corrupt entry or snapshot fails loudly (the node stops) rather than
 * diverging.
 */
public final class LedgerStateMachine extends BaseStateMachine {
  private static final Logger LOG = LoggerFactory.getLogger(LedgerStateMachine.class);

  /**
   * A consistent, read-only view handed to readers while the read lock is held: the history holds
   * exactly the entries through the stamp's index.
   */
  public record View(Ledger ledger, MerkleTree tree, Stamp stamp, HistoryStore history) {}

  private final String nodeId;
  private final LedgerLimits limits;
  private volatile long proofCacheBytes;
  private final boolean merkleEnabled;
  private final SnapshotStore snapshots;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final AppliedIndexWaiters waiters;
  private final NodeMetrics metrics;
  private final WatchWindow watchWindow;
  private final HistoryStore.Settings storeSettings;
  private final byte[] nodeIdSuffix;

  // Guarded by lock.
  private HistoryStore history;
  private volatile Path storageRoot; // this group's folder in the data dir, once initialized

  /** The newest ledger entry with a Watch event: what the next event names as its previous. */
  private long lastEventIndex;

  private Ledger ledger;
  private MerkleTree tree;
  private Stamp stamp;

  /**
   * The principals that hold a role, as of the last applied entry, whose term is {@code term}; read
   * without the lock by both doors ({@link #holdsAnyRole}, {@link #knownToHoldNoRole}). {@code of}
   * and {@code changes} say which table it was copied from, so it is copied only when that moved.
   */
  private record RoleView(Set<String> principals, long term, Ledger of, long changes) {}

  private volatile RoleView roleView = new RoleView(Set.of(), 0, null, -1);

  /** The node's exit code when a log entry cannot be decoded. */
  public static final int EXIT_CORRUPT_ENTRY = 4;

  /** The node's exit code when the history store cannot take an applied entry. */
  public static final int EXIT_STORE_FAILED = 5;

  public LedgerStateMachine(
      String nodeId,
      LedgerLimits limits,
      long proofCacheBytes,
      boolean merkleEnabled,
      int maxIndexWaiters,
      NodeMetrics metrics,
      WatchWindow watchWindow,
      HistoryStore.Settings storeSettings) {
    this.nodeId = nodeId;
    this.nodeIdSuffix = WatchEvents.nodeIdSuffix(nodeId);
    this.storeSettings = storeSettings;
    this.watchWindow = watchWindow;
    this.merkleEnabled = merkleEnabled;
    this.metrics = metrics;
    this.limits = limits;
    this.proofCacheBytes = proofCacheBytes;
    this.waiters = new AppliedIndexWaiters(maxIndexWaiters);
    this.snapshots = new SnapshotStore(nodeId, limits, metrics);
    this.ledger = new Ledger(limits);
    this.tree = new MerkleTree(proofCacheBytes);
    this.stamp = stampOf(0, 0, tree.root());
  }

  // ---- lifecycle and snapshots ----

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage)
      throws IOException {
    super.initialize(server, groupId, raftStorage);
    snapshots.storage().init(raftStorage);
    // Beside Ratis's "current" and "sm", not in "sm": installing a snapshot replaces all of "sm".
    storageRoot = raftStorage.getStorageDir().getRoot().toPath();
    Backups.removeLeftovers(storageRoot);
    Path dir = storageRoot.resolve("history");
    getLifeCycle()
        .startAndTransition(
            () -> {
              history = HistoryStore.open(dir, storeSettings);
              ledger.useHistory(history);
              registerStoreGauges();
              loadLatest();
              watchWindow.backfill(new StoredEvents());
            },
            IOException.class);
  }

  private void registerStoreGauges() {
    metrics.gauge(
        "cairn.store.sst.bytes",
        "Bytes of the history store's SST files on disk",
        this,
        sm -> sm.storeProperty("rocksdb.total-sst-files-size"));
    metrics.gauge(
        "cairn.store.memtable.bytes",
        "Bytes of the history store's memtables",
        this,
        sm -> sm.storeProperty("rocksdb.cur-size-all-mem-tables"));
    metrics.gauge(
        "cairn.store.block.cache.bytes",
        "Bytes in the history store's block cache",
        this,
        sm -> sm.storeProperty("rocksdb.block-cache-usage"));
  }

  private double storeProperty(String property) {
    lock.readLock().lock();
    try {
      return history == null ? Double.NaN : history.approximateBytes(property);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Opens the history store in {@code dir} without Ratis (benchmarks that apply entries). */
  void openHistory(Path dir) throws IOException {
    lock.writeLock().lock();
    try {
      history = HistoryStore.open(dir, storeSettings);
      ledger.useHistory(history);
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * Ratis pauses the state machine before it installs a snapshot sent by the leader (a follower too
   * far behind for the log, or a node that just joined), then calls {@link #reinitialize()}. Its
   * updater insists on the PAUSED state there; without this, installing stops the node.
   */
  @Override
  public synchronized void pause() {
    if (getLifeCycleState() == LifeCycle.State.RUNNING) {
      getLifeCycle().transition(LifeCycle.State.PAUSING);
      getLifeCycle().transition(LifeCycle.State.PAUSED);
    }
  }

  /** Loads the newest snapshot on disk (one just installed from the leader, or our own). */
  @Override
  public synchronized void reinitialize() throws IOException {
    loadLatest();
    if (getLifeCycleState() == LifeCycle.State.PAUSED) {
      getLifeCycle().transition(LifeCycle.State.STARTING);
      getLifeCycle().transition(LifeCycle.State.RUNNING);
    }
  }

  private void loadLatest() throws IOException {
    SnapshotStore.Restored r = snapshots.restoreLatest(merkleEnabled, proofCacheBytes);
    if (r == null) {
      LOG.info("node={} no snapshot; starting from an empty ledger", nodeId);
      return;
    }
    long index = r.header().getAppliedIndex();
    lock.writeLock().lock();
    try {
      reconcileHistory(r.header().getAppliedTerm(), index);
      ledger = r.ledger();
      ledger.useHistory(history);
      tree = r.tree();
      stamp = stampOf(index, r.header().getAppliedTerm(), r.tree().root());
      publishRoles();
      updateLastAppliedTermIndex(r.header().getAppliedTerm(), index);
      // Entries before the snapshot were never applied here (or are from before a restart): the
      // window starts empty, and older entries come from the store (or COMPACTED, never a gap).
      lastEventIndex = history.lastWatchIndexAtOrBelow(index);
      watchWindow.reset(lastEventIndex);
    } finally {
      lock.writeLock().unlock();
    }
    waiters.advance(index);
  }

  /**
   * The store must hold every entry through the snapshot's index: the log before it may be purged.
   * One that does not (a new member, one that installed the leader's snapshot, one whose store was
   * lost) is replaced by the checkpoint that came with the snapshot. Holds the write lock.
   */
  private void reconcileHistory(long term, long index) throws IOException {
    long held = history.appliedIndex();
    if (held >= index) {
      return;
    }
    Path checkpoint = snapshots.checkpointDir(term, index);
    if (!Files.isDirectory(checkpoint)) {
      throw new IOException(
          "the history store "
              + history.dir()
              + " holds entries through "
              + held
              + ", the snapshot is at "
              + index
              + ", and its checkpoint "
              + checkpoint
              + " is missing: the history between them is gone. Restore the node from a backup,"
              + " or remove its data directory so it rejoins from the leader's snapshot");
    }
    Path dir = history.dir();
    history.close();
    HistoryStore.installCheckpoint(checkpoint, dir);
    history = HistoryStore.open(dir, storeSettings);
    if (history.appliedIndex() != index) {
      throw new IOException(
          "checkpoint " + checkpoint + " holds entries through " + history.appliedIndex());
    }
    LOG.info("node={} history store installed from checkpoint {}", nodeId, checkpoint);
  }

  /**
   * The snapshot Ratis ships to a follower that needs one: the snapshot file, then the files of the
   * history checkpoint taken at the same index (the follower checks each file's MD5 as it arrives).
   */
  @Override
  public SnapshotInfo getLatestSnapshot() {
    return snapshots.latestWithCheckpoint();
  }

  @Override
  public SimpleStateMachineStorage getStateMachineStorage() {
    return snapshots.storage();
  }

  /**
   * Ratis calls this on the apply thread every few entries once the log has grown past the
   * threshold; while it runs no entry is applied. So it only copies the ledger (milliseconds; the
   * copy shares the immutable parts) and the {@link SnapshotStore} writes it in the background.
   */
  @Override
  public long takeSnapshot() {
    return snapshots.take(this::snapshotImage);
  }

  private SnapshotStore.Image snapshotImage() {
    try {
      return image(
          lock.readLock(), h -> checkpointHistory(h.getAppliedTerm(), h.getAppliedIndex()));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e); // not reached: checkpointHistory logs its failures
    }
  }

  /** Writes the history store's checkpoint at a header's index; false if it could not. */
  private interface Checkpointer {
    boolean checkpoint(SnapshotHeader at) throws IOException;
  }

  /**
   * The header and a copy of the ledger at the applied index, taken while holding {@code held},
   * with the history store's checkpoint at that index (so no entry applies between the copy and the
   * checkpoint); null when nothing has been applied or the checkpoint failed.
   */
  private SnapshotStore.Image image(java.util.concurrent.locks.Lock held, Checkpointer checkpointer)
      throws IOException {
    held.lock();
    try {
      if (stamp.getAppliedIndex() <= 0) {
        return null;
      }
      long started = System.nanoTime();
      SnapshotHeader header = snapshotHeader();
      Ledger.SnapshotCopy copy = ledger.snapshotCopy();
      if (!checkpointer.checkpoint(header)) {
        return null;
      }
      return new SnapshotStore.Image(header, copy, System.nanoTime() - started);
    } finally {
      held.unlock();
    }
  }

  private SnapshotHeader snapshotHeader() {
    return SnapshotHeader.newBuilder()
        .setFormatVersion(SnapshotFile.FORMAT_VERSION)
        .setAppliedIndex(stamp.getAppliedIndex())
        .setAppliedTerm(stamp.getTerm())
        .setStateRoot(stamp.getStateRoot())
        .build();
  }

  /**
   * An online backup of this node's state at its applied index, written to {@code out} in the
   * format of {@link io.cairn.proto.backup.Backup} ({@code cairnctl snapshot save}).
   *
   * @throws IllegalStateException when nothing has been applied yet
   */
  public BackupManifest writeBackup(OutputStream out) throws IOException {
    return Backups.write(this::backupImage, storageRoot, nodeId, out);
  }

  /**
   * The state to back up, its checkpoint written into {@code checkpoint}. Holds the write lock, so
   * no snapshot's checkpoint (taken on the apply thread under the read lock) runs beside it.
   */
  private SnapshotStore.Image backupImage(Path checkpoint) throws IOException {
    return image(
        lock.writeLock(),
        h -> {
          history.checkpoint(h.getAppliedIndex(), checkpoint);
          return true;
        });
  }

  /**
   * On the apply thread, before the snapshot is written: the history checkpoint that goes with it
   * (flushed, hard links), after removing checkpoints whose snapshot is gone. False if it failed:
   * then no snapshot is taken, and the log is kept.
   */
  private boolean checkpointHistory(long term, long index) {
    try {
      Path target = snapshots.newCheckpointDir(term, index);
      long started = System.nanoTime();
      history.checkpoint(index, target);
      LOG.info(
          "node={} history checkpoint {} in {} ms",
          nodeId,
          target,
          (System.nanoTime() - started) / 1_000_000);
      return true;
    } catch (IOException | RuntimeException e) {
      LOG.error("node={} history checkpoint at {} failed; no snapshot now", nodeId, index, e);
      return false;
    }
  }

  @Override
  public void close() throws IOException {
    snapshots.close();
    lock.writeLock().lock();
    try {
      if (history != null) {
        history.close();
        history = null;
      }
    } finally {
      lock.writeLock().unlock();
    }
    super.close();
  }

  // ---- writes ----

  /**
   * On the leader, keeps the {@link LedgerCommand} the API built with the entry, so the leader's
   * own apply uses its parsed requests instead of parsing the entry's bytes again.
   */
  @Override
  public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
    TransactionContext.Builder b =
        TransactionContext.newBuilder().setStateMachine(this).setClientRequest(request);
    if (request.getMessage() instanceof LedgerCommand command) {
      b.setStateMachineContext(command);
    }
    return b.build();
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    long index = entry.getIndex();
    LedgerCommand command;
    try {
      command =
          trx.getStateMachineContext() instanceof LedgerCommand c
              ? c
              : LedgerCommand.decode(entry.getStateMachineLogEntry().getLogData());
    } catch (InvalidProtocolBufferException e) {
      // Invariant 6: a replica can neither skip an entry nor apply half of one, and Ratis only
      // logs a failed apply future and carries on with the next entry (the effect varied per
      // node). Decoding is deterministic, so every replica stops here, at the same index.
      LOG.error(
          "node={} log entry {} cannot be decoded ({}); stopping with exit code {}: no replica"
              + " can apply it, and each stops at this index",
          nodeId,
          index,
          e.getMessage(),
          EXIT_CORRUPT_ENTRY);
      // Halts, not exits: a shutdown hook would hand leadership over and keep serving meanwhile.
      Runtime.getRuntime().halt(EXIT_CORRUPT_ENTRY);
      return CompletableFuture.failedFuture(
          new IllegalStateException("corrupt log entry at index " + index, e));
    }
    long started = System.nanoTime();
    List<List<List<Account>>> changes = new ArrayList<>(command.requests().size());
    List<Caller> callers = new ArrayList<>(command.requests().size());
    Applied applied = apply(command, index, entry.getTerm(), callers, changes);
    metrics.applyLatency().record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
    WatchEvents.Encoded event = applied.event();
    if (event != null) {
      // Outside the lock, still in log order: Ratis applies one entry at a time on this thread.
      watchWindow.append(
          index,
          event.prevIndex(),
          event.events(),
          WatchEvents.withSuffix(event.encoded(), nodeIdSuffix));
    }
    waiters.advance(index);
    // Only the leader that appended the entry has a write waiting for the results; elsewhere
    // Ratis would only keep them in its retry cache, which Cairn never consults.
    return CompletableFuture.completedFuture(
        trx.getClientRequest() != null ? applied.results() : Message.EMPTY);
  }

  /** An applied entry's results, and its Watch event (null when it has none). */
  private record Applied(EntryResults results, WatchEvents.Encoded event) {}

  /** Applies every request of the entry; fills {@code callers} and {@code changes} per request. */
  private Applied apply(
      LedgerCommand command,
      long index,
      long term,
      List<Caller> callers,
      List<List<List<Account>>> changes) {
    List<List<OpResult>> perRequest = new ArrayList<>(command.requests().size());
    lock.writeLock().lock();
    try {
      for (int r = 0; r < command.requests().size(); r++) {
        SubmitRequest request = command.requests().get(r);
        Caller caller = command.caller(r);
        callers.add(caller);
        perRequest.add(
            ledger.apply(
                command.leaderTimeMillis(),
                index,
                caller,
                request.getOperationsList(),
                request.getAtomic()));
        changes.add(ledger.lastOperationChanges());
      }
      List<Account> changed = ledger.drainChangedAccounts();
      if (!changed.isEmpty() && merkleEnabled) {
        tree.putAll(changed);
      }
      Stamp next = stampOf(index, term, tree.root());
      EntryResults results = new EntryResults(next, perRequest);
      WatchEvents.Encoded event = watchEvent(command, results, callers, changes);
      writeHistory(command, index, perRequest, callers, changes, event);
      stamp = next;
      publishRoles();
      updateLastAppliedTermIndex(term, index);
      return new Applied(results, event);
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * The entry's history, under the write lock so a reader's view holds exactly the entries through
   * its stamp. A store that cannot take it stops the node (invariant 6): going on would forget
   * operations that later retries must find.
   */
  private void writeHistory(
      LedgerCommand command,
      long index,
      List<List<OpResult>> perRequest,
      List<Caller> callers,
      List<List<List<Account>>> changes,
      WatchEvents.Encoded event) {
    try {
      EntryHistory.write(
          history,
          command,
          index,
          ledger.totals().nowMillis(),
          perRequest,
          callers,
          changes,
          event);
    } catch (IOException | RuntimeException e) {
      LOG.error(
          "node={} history store cannot take entry {} ({}); stopping with exit code {}",
          nodeId,
          index,
          e.toString(),
          EXIT_STORE_FAILED);
      Runtime.getRuntime().halt(EXIT_STORE_FAILED);
    }
  }

  /**
   * The entry's Watch event, encoded once for the store and the window; null for an entry of
   * nothing but read barriers (empty requests change nothing). Under the write lock, on the apply
   * thread.
   */
  private WatchEvents.Encoded watchEvent(
      LedgerCommand command,
      EntryResults results,
      List<Caller> callers,
      List<List<List<Account>>> changes) {
    boolean any = false;
    for (int r = 0; r < results.requests() && !any; r++) {
      any = !results.results(r).isEmpty();
    }
    if (!any) {
      return null;
    }
    long index = results.stamp().getAppliedIndex();
    long prev = lastEventIndex;
    lastEventIndex = index;
    try {
      WatchResponse e = WatchEvents.of(merkleEnabled, prev, command, results, callers, changes);
      return new WatchEvents.Encoded(prev, e.getEventsCount(), e.toByteArray());
    } catch (RuntimeException e) {
      // Watch is a view of the log, never a reason to stop applying it (invariant 6). The next
      // event names this index as its previous one, so a watcher sees the gap; the window
      // restarts here, so those behind it hear COMPACTED or are served from the store.
      LOG.error("node={} index={} watch entry not recorded: {}", nodeId, index, e.toString());
      watchWindow.reset(index);
      return null;
    }
  }

  /**
   * Serves watchers below the window from the store, under the read lock (a snapshot install swaps
   * the store under the write lock).
   */
  private final class StoredEvents implements WatchWindow.Backfill {
    @Override
    public WatchWindow.Slice after(long after, int max) {
      return read(
          v -> {
            long floor = v.history().watchFloor();
            if (after < floor) {
              return new WatchWindow.Slice(List.of(), true, floor + 1);
            }
            List<WatchWindow.Entry> out = new ArrayList<>();
            for (HistoryStore.WatchEntry e : v.history().watchAfter(after, max)) {
              out.add(
                  new WatchWindow.Entry(
                      e.index(), e.events(), WatchEvents.withSuffix(e.encoded(), nodeIdSuffix)));
            }
            return new WatchWindow.Slice(out, false, floor + 1);
          });
    }

    @Override
    public long oldestAvailable() {
      return read(v -> v.history().watchFloor() + 1);
    }
  }

  @Override
  public void notifyTermIndexUpdated(long term, long index) {
    // Configuration and metadata entries advance the applied index without touching the ledger.
    lock.writeLock().lock();
    try {
      super.notifyTermIndexUpdated(term, index);
      if (index > stamp.getAppliedIndex()) {
        stamp = stamp.toBuilder().setAppliedIndex(index).setTerm(term).build();
        publishRoles();
      }
    } finally {
      lock.writeLock().unlock();
    }
    waiters.advance(index);
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
    metrics.leaderChanged();
    LOG.info("node={} leader is now {}", nodeId, newLeaderId);
  }

  // ---- reads ----

  /**
   * Not used: Cairn's linearizable reads go through a barrier entry in the log (see the API's
   * barrier), and Ratis's own query paths are never called. Answers nothing, never hangs.
   */
  @Override
  public CompletableFuture<Message> query(Message request) {
    return CompletableFuture.completedFuture(Message.EMPTY);
  }

  /** BaseStateMachine's version can hang when apply lags; Cairn never calls it (see query). */
  @Override
  public CompletableFuture<Message> queryStale(Message request, long minIndex) {
    return CompletableFuture.completedFuture(Message.EMPTY);
  }

  /** Reads a consistent view under the read lock. Keep {@code reader} short and non-blocking. */
  public <T> T read(Function<View, T> reader) {
    lock.readLock().lock();
    try {
      return reader.apply(new View(ledger, tree, stamp, history));
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Resizes the Merkle proof cache now and for trees built later (snapshot loads). */
  public void setProofCacheBytes(long bytes) {
    lock.writeLock().lock();
    try {
      proofCacheBytes = bytes;
      tree.setProofCacheMaxBytes(bytes);
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** The current stamp (applied index, root, term). */
  public Stamp stamp() {
    lock.readLock().lock();
    try {
      return stamp;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** The window of recent ledger entries that {@code Watch} streams from. */
  public WatchWindow watchWindow() {
    return watchWindow;
  }

  /** Completes once {@code index} is applied here; null when too many reads already wait. */
  public CompletableFuture<Long> awaitApplied(long index) {
    return waiters.await(index);
  }

  private Stamp stampOf(long index, long term, byte[] root) {
    return Stamp.newBuilder()
        .setNodeId(nodeId)
        .setAppliedIndex(index)
        .setTerm(term)
        .setStateRoot(ByteString.copyFrom(root))
        .build();
  }

  static String hex(byte[] b) {
    StringBuilder sb = new StringBuilder(b.length * 2);
    for (byte x : b) {
      sb.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
    }
    return sb.toString();
  }

  /** Whether {@code principal} holds the admin role in this node's applied state. */
  public boolean isAdmin(String principal) {
    return rolesOf(principal).contains(Role.ADMIN);
  }

  /** Whether {@code principal} holds any role in this node's applied state (lock-free). */
  public boolean holdsAnyRole(String principal) {
    return roleView.principals().contains(principal);
  }

  /**
   * Whether {@code principal} is known to hold no role: it holds none in the applied state, and
   * this node has applied an entry of {@code currentTerm} (read only then, so a caller that holds a
   * role pays one set lookup). A leader asks with its own term: once it has applied one entry of
   * its term it has applied every entry of earlier terms, so a grant any client was told about is
   * in the answer (this leader answers a grant only after applying it).
   */
  public boolean knownToHoldNoRole(String principal, java.util.function.LongSupplier currentTerm) {
    RoleView v = roleView;
    return !v.principals().contains(principal) && v.term() == currentTerm.getAsLong();
  }

  /** Publishes the role view after an applied entry (under the write lock). */
  private void publishRoles() {
    RoleView v = roleView;
    Set<String> principals =
        v.of() == ledger && v.changes() == ledger.roleChanges()
            ? v.principals()
            : ledger.rolePrincipals();
    roleView = new RoleView(principals, stamp.getTerm(), ledger, ledger.roleChanges());
  }

  private java.util.Set<Role> rolesOf(String principal) {
    lock.readLock().lock();
    try {
      return ledger.roles(principal);
    } finally {
      lock.readLock().unlock();
    }
  }
}
