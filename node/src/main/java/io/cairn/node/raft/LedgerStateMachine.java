package io.cairn.node.raft;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.cairn.node.ledger.Ledger;
import io.cairn.node.ledger.LedgerLimits;
import io.cairn.node.ledger.OpResult;
import io.cairn.node.merkle.MerkleTree;
import io.cairn.node.metrics.NodeMetrics;
import io.cairn.proto.Account;
import io.cairn.proto.LogEntry;
import io.cairn.proto.LogEntryReply;
import io.cairn.proto.OperationEvent;
import io.cairn.proto.OperationResult;
import io.cairn.proto.SnapshotHeader;
import io.cairn.proto.Stamp;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.SubmitResponse;
import io.cairn.proto.WatchResponse;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ratis glue around the pure {@link Ledger} and {@link MerkleTree}: decodes a log entry, applies
 * each request in it, updates the tree once per entry, and replies with per-operation results
 * stamped with (applied index, state root).
 *
 * <p>Threads: Ratis applies entries one at a time on its updater thread, under the write lock.
 * API threads read under the read lock, so an account, the applied index and the root in one
 * reply always belong together. A corrupt entry or snapshot fails loudly (the node stops) rather
 * than diverging.
 */
public final class LedgerStateMachine extends BaseStateMachine {
  private static final Logger LOG = LoggerFactory.getLogger(LedgerStateMachine.class);

  /** A consistent, read-only view handed to readers while the read lock is held. */
  public interface View {
    Ledger ledger();

    MerkleTree tree();

    Stamp stamp();
  }

  private final String nodeId;
  private final LedgerLimits limits;
  private volatile long proofCacheEntries;
  private final boolean merkleEnabled;
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final AppliedIndexWaiters waiters;
  private final NodeMetrics metrics;
  private final WatchWindow watchWindow;

  // Guarded by lock.
  private Ledger ledger;
  private MerkleTree tree;
  private Stamp stamp;

  public LedgerStateMachine(
      String nodeId,
      LedgerLimits limits,
      long proofCacheEntries,
      boolean merkleEnabled,
      int maxIndexWaiters,
      NodeMetrics metrics,
      WatchWindow watchWindow) {
    this.nodeId = nodeId;
    this.watchWindow = watchWindow;
    this.merkleEnabled = merkleEnabled;
    this.metrics = metrics;
    this.limits = limits;
    this.proofCacheEntries = proofCacheEntries;
    this.waiters = new AppliedIndexWaiters(maxIndexWaiters);
    resetToEmpty();
  }

  private void resetToEmpty() {
    this.ledger = new Ledger(limits);
    this.tree = new MerkleTree(proofCacheEntries);
    this.stamp = stampOf(0, 0, tree.root());
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage)
      throws IOException {
    super.initialize(server, groupId, raftStorage);
    storage.init(raftStorage);
    getLifeCycle().startAndTransition(this::loadLatest, IOException.class);
  }

  /**
   * Ratis pauses the state machine before it installs a snapshot sent by the leader (a follower
   * too far behind for the log, or a node that just joined), then calls {@link #reinitialize()}.
   * Its updater insists on the PAUSED state there; without this, installing stops the node.
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
    SingleFileSnapshotInfo snapshot = storage.loadLatestSnapshot();
    if (snapshot == null) {
      LOG.info("node={} no snapshot; starting from an empty ledger", nodeId);
      return;
    }
    load(snapshot);
  }

  private void load(SingleFileSnapshotInfo snapshot) throws IOException {
    Path file = snapshot.getFile().getPath();
    if (!Files.exists(file)) {
      throw new IOException("snapshot " + file + " is listed but missing");
    }
    if (snapshot.getFile().getFileDigest() != null) {
      MD5FileUtil.verifySavedMD5(file.toFile(), snapshot.getFile().getFileDigest());
    }
    long started = System.nanoTime();
    SnapshotFile.Loaded loaded = SnapshotFile.read(file, limits);
    SnapshotHeader header = loaded.header();
    TermIndex fromName = SimpleStateMachineStorage.getTermIndexFromSnapshotFile(file.toFile());
    if (fromName.getIndex() != header.getAppliedIndex()
        || fromName.getTerm() != header.getAppliedTerm()) {
      throw new IOException(
          "snapshot " + file + " header says " + header.getAppliedTerm() + ":"
              + header.getAppliedIndex() + " but its name says " + fromName);
    }
    loaded.ledger().checkInvariants();
    MerkleTree rebuilt =
        merkleEnabled
            ? MerkleTree.build(allAccounts(loaded.ledger()), proofCacheEntries)
            : new MerkleTree(proofCacheEntries);
    byte[] root = rebuilt.root();
    if (!Arrays.equals(root, header.getStateRoot().toByteArray())) {
      throw new IOException(
          "snapshot " + file + " is corrupt: recomputed state root " + hex(root)
              + " differs from the stored " + hex(header.getStateRoot().toByteArray()));
    }
    lock.writeLock().lock();
    try {
      ledger = loaded.ledger();
      tree = rebuilt;
      stamp = stampOf(header.getAppliedIndex(), header.getAppliedTerm(), root);
      updateLastAppliedTermIndex(header.getAppliedTerm(), header.getAppliedIndex());
      reportedIndex = Math.max(reportedIndex, header.getAppliedIndex());
      // Entries before the snapshot were never applied here (or are from before a restart):
      // watchers asking for them must hear COMPACTED, not get a gap.
      watchWindow.reset(header.getAppliedIndex());
    } finally {
      lock.writeLock().unlock();
    }
    waiters.advance(header.getAppliedIndex());
    LOG.info(
        "node={} loaded snapshot {} index={} accounts={} root={} in {} ms",
        nodeId,
        file,
        header.getAppliedIndex(),
        rebuilt.size(),
        hex(root),
        (System.nanoTime() - started) / 1_000_000);
  }

  private static List<Account> allAccounts(Ledger l) {
    List<Account> all = new ArrayList<>();
    String after = "";
    while (true) {
      List<Account> page = l.accountsAfter(after, 10_000);
      if (page.isEmpty()) {
        return all;
      }
      all.addAll(page);
      after = page.get(page.size() - 1).getId();
    }
  }

  @Override
  public SimpleStateMachineStorage getStateMachineStorage() {
    return storage;
  }

  // Snapshot writing, one at a time, off the apply thread (see takeSnapshot): the index of a
  // snapshot written in the background and not yet reported to Ratis, or INVALID.
  private final AtomicLong writtenIndex = new AtomicLong(RaftLogIndexes.INVALID);
  private volatile Thread writer;
  // nanoTime has an arbitrary origin: start from "now", not 0, or the first snapshot could wait.
  private volatile long retryWritingAfterNanos = System.nanoTime();
  // Ratis's own snapshot index never goes down: a snapshot older than one loaded since (our own
  // at start, or one installed from the leader) must not be reported.
  private volatile long reportedIndex = RaftLogIndexes.INVALID;

  /**
   * Ratis calls this on the apply thread every few entries once the log has grown past the
   * threshold; while it runs no entry is applied. So it only copies the ledger (milliseconds; the
   * copy shares the immutable parts) and a background thread writes, fsyncs and registers the
   * file. It returns the index of a snapshot that is already on disk, or INVALID while one is
   * being written: Ratis purges the log only up to what was returned, so nothing is lost if the
   * node dies mid-write, and it asks again on its next check.
   */
  @Override
  public long takeSnapshot() {
    long done = writtenIndex.getAndSet(RaftLogIndexes.INVALID);
    if (done > reportedIndex) {
      reportedIndex = done;
      return done;
    }
    if (writer != null || System.nanoTime() - retryWritingAfterNanos < 0) {
      return RaftLogIndexes.INVALID;
    }
    Ledger.SnapshotCopy copy;
    SnapshotHeader header;
    long copyNanos;
    lock.readLock().lock();
    try {
      long index = stamp.getAppliedIndex();
      if (index <= 0 || index <= reportedIndex) {
        return RaftLogIndexes.INVALID;
      }
      long started = System.nanoTime();
      header =
          SnapshotHeader.newBuilder()
              .setFormatVersion(SnapshotFile.FORMAT_VERSION)
              .setAppliedIndex(index)
              .setAppliedTerm(stamp.getTerm())
              .setStateRoot(stamp.getStateRoot())
              .build();
      copy = ledger.snapshotCopy();
      copyNanos = System.nanoTime() - started;
    } finally {
      lock.readLock().unlock();
    }
    Thread t = new Thread(() -> write(header, copy, copyNanos), nodeId + "-snapshot-writer");
    t.setDaemon(true);
    writer = t;
    t.start();
    return RaftLogIndexes.INVALID;
  }

  private void write(SnapshotHeader header, Ledger.SnapshotCopy copy, long copyNanos) {
    long index = header.getAppliedIndex();
    long term = header.getAppliedTerm();
    long started = System.nanoTime();
    try {
      File file = storage.getSnapshotFile(term, index);
      var md5 = SnapshotFile.write(file.toPath(), header, copy);
      MD5FileUtil.saveMD5File(file, md5);
      storage.updateLatestSnapshot(
          new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), term, index));
      long writeNanos = System.nanoTime() - started;
      metrics.snapshot(Duration.ofNanos(copyNanos + writeNanos), file.length());
      writtenIndex.set(index);
      LOG.info(
          "node={} took snapshot {} ({} bytes, {} accounts, {} remembered operations): copied in"
              + " {} ms on the apply thread, written in {} ms in the background",
          nodeId,
          file,
          file.length(),
          copy.accounts(),
          copy.rememberedOperations(),
          copyNanos / 1_000_000,
          writeNanos / 1_000_000);
    } catch (IOException | RuntimeException e) {
      // The log is kept (nothing was reported); try again later, not on every entry.
      retryWritingAfterNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      LOG.error("node={} snapshot at index {} failed; retrying in 10 s", nodeId, index, e);
    } finally {
      writer = null;
    }
  }

  /** Waits for a snapshot being written, so a clean stop leaves it complete on disk. */
  @Override
  public void close() throws IOException {
    Thread t = writer;
    if (t != null) {
      try {
        t.join(TimeUnit.SECONDS.toMillis(60));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    super.close();
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    long index = entry.getIndex();
    long term = entry.getTerm();
    LogEntry decoded;
    try {
      decoded =
          LogEntry.parseFrom(
              entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer());
    } catch (InvalidProtocolBufferException e) {
      // Invariant 6: a corrupt entry stops the node rather than letting replicas diverge.
      LOG.error("node={} log entry {} is corrupt; stopping: {}", nodeId, index, e.getMessage());
      return CompletableFuture.failedFuture(
          new IllegalStateException("corrupt log entry at index " + index, e));
    }
    LogEntryReply reply;
    long started = System.nanoTime();
    List<List<OpResult>> perRequest = new ArrayList<>(decoded.getRequestsCount());
    List<List<List<Account>>> opChanges = new ArrayList<>(decoded.getRequestsCount());
    Stamp applied;
    lock.writeLock().lock();
    try {
      for (SubmitRequest request : decoded.getRequestsList()) {
        perRequest.add(ledger.apply(decoded.getLeaderTimeMillis(), index, request));
        opChanges.add(ledger.lastOperationChanges());
      }
      List<Account> changed = ledger.drainChangedAccounts();
      if (!changed.isEmpty() && merkleEnabled) {
        tree.putAll(changed);
      }
      stamp = stampOf(index, term, tree.root());
      applied = stamp;
      updateLastAppliedTermIndex(term, index);
      // Only the leader that appended the entry has a caller waiting for the reply. Elsewhere
      // Ratis would just keep it in its retry cache, which Cairn never consults (every write
      // goes in under a fresh call id), so followers skip building it.
      reply = trx.getClientRequest() != null ? buildReply(perRequest, stamp) : null;
    } finally {
      lock.writeLock().unlock();
    }
    metrics.applyLatency().record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
    // Built outside the lock (readers need not wait for it); still in log order, because Ratis
    // applies one entry at a time on this thread.
    try {
      // An entry of nothing but read barriers (empty requests) changes nothing: not an event,
      // and not worth building one for.
      if (watchWindow.enabled() && perRequest.stream().anyMatch(r -> !r.isEmpty())) {
        watchWindow.append(watchEntry(decoded, perRequest, opChanges, applied));
      }
    } catch (RuntimeException e) {
      // Watch is a view of the log, never a reason to stop applying it (invariant 6): restart
      // the window here, so watchers that needed this entry hear COMPACTED instead of a gap.
      LOG.error("node={} index={} watch entry not recorded: {}", nodeId, index, e.toString());
      watchWindow.reset(index);
    }
    waiters.advance(index);
    return CompletableFuture.completedFuture(
        reply == null
            ? Message.EMPTY
            : Message.valueOf(UnsafeByteOperations.unsafeWrap(reply.toByteArray())));
  }

  private WatchResponse watchEntry(
      LogEntry decoded,
      List<List<OpResult>> perRequest,
      List<List<List<Account>>> opChanges,
      Stamp applied) {
    WatchResponse.Builder b =
        WatchResponse.newBuilder()
            .setIndex(applied.getAppliedIndex())
            .setPrevIndex(watchWindow.lastIndex())
            .setTerm(applied.getTerm())
            .setEntryTimeMillis(decoded.getLeaderTimeMillis())
            .setStateRoot(merkleEnabled ? applied.getStateRoot() : ByteString.EMPTY)
            .setNodeId(nodeId);
    for (int r = 0; r < perRequest.size(); r++) {
      SubmitRequest request = decoded.getRequests(r);
      List<OpResult> results = perRequest.get(r);
      List<List<Account>> changes = opChanges.get(r);
      for (int i = 0; i < results.size(); i++) {
        OpResult res = results.get(i);
        b.addEvents(
            OperationEvent.newBuilder()
                .setOperation(request.getOperations(i))
                .setResult(
                    OperationResult.newBuilder()
                        .setId(res.id())
                        .setCode(res.code())
                        .setReplayed(res.replayed())
                        .setAppliedIndex(res.appliedIndex()))
                .addAllChanged(i < changes.size() ? changes.get(i) : List.of()));
      }
    }
    return b.build();
  }

  private static LogEntryReply buildReply(List<List<OpResult>> perRequest, Stamp stamp) {
    LogEntryReply.Builder reply = LogEntryReply.newBuilder();
    for (List<OpResult> results : perRequest) {
      SubmitResponse.Builder response = SubmitResponse.newBuilder().setStamp(stamp);
      for (OpResult r : results) {
        response.addResults(
            OperationResult.newBuilder()
                .setId(r.id())
                .setCode(r.code())
                .setReplayed(r.replayed())
                .setAppliedIndex(r.appliedIndex()));
      }
      reply.addResponses(response);
    }
    return reply.build();
  }

  @Override
  public void notifyTermIndexUpdated(long term, long index) {
    // Configuration and metadata entries advance the applied index without touching the ledger.
    lock.writeLock().lock();
    try {
      super.notifyTermIndexUpdated(term, index);
      if (index > stamp.getAppliedIndex()) {
        stamp = stamp.toBuilder().setAppliedIndex(index).setTerm(term).build();
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

  @Override
  public CompletableFuture<Message> query(Message request) {
    // Linearizable reads run Ratis's ReadIndex with an empty query; once it completes, this
    // node has applied at least the read index and the API reads its local view.
    return CompletableFuture.completedFuture(Message.EMPTY);
  }

  @Override
  public CompletableFuture<Message> queryStale(Message request, long minIndex) {
    // BaseStateMachine's version can hang when apply lags; stale reads go through
    // awaitApplied() instead and never reach here.
    return CompletableFuture.completedFuture(Message.EMPTY);
  }

  /** Reads a consistent view under the read lock. Keep {@code reader} short and non-blocking. */
  public <T> T read(Function<View, T> reader) {
    lock.readLock().lock();
    try {
      Ledger l = ledger;
      MerkleTree t = tree;
      Stamp s = stamp;
      return reader.apply(
          new View() {
            @Override
            public Ledger ledger() {
              return l;
            }

            @Override
            public MerkleTree tree() {
              return t;
            }

            @Override
            public Stamp stamp() {
              return s;
            }
          });
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Resizes the Merkle proof cache now and for trees built later (snapshot loads). */
  public void setProofCacheEntries(long entries) {
    lock.writeLock().lock();
    try {
      proofCacheEntries = entries;
      tree.setProofCacheMaxEntries(entries);
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

  /** Ratis's "no snapshot taken" value. */
  private static final class RaftLogIndexes {
    static final long INVALID = -1;
  }
}
