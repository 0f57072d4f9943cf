package io.cairn.node.raft;

import io.cairn.node.ledger.Ledger;
import io.cairn.node.ledger.LedgerLimits;
import io.cairn.node.merkle.MerkleTree;
import io.cairn.node.metrics.NodeMetrics;
import io.cairn.node.store.HistoryStore;
import io.cairn.proto.Account;
import io.cairn.proto.SnapshotHeader;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's snapshots on disk: written one at a time on a background thread from a copy the apply
 * thread made, registered with Ratis only once complete, and verified when loaded; beside each, in
 * {@code sm/checkpoint.<term>_<index>/}, the history store's checkpoint at its index.
 *
 * <p>Ratis purges the log only up to an index {@link #take} returned, and {@code take} returns only
 * the index of a snapshot already fsynced and registered; so nothing is lost if the node dies
 * mid-write.
 */
final class SnapshotStore implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SnapshotStore.class);

  /** Ratis's "no snapshot taken" value. */
  static final long INVALID = -1;

  /** A verified snapshot, ready to install: its ledger and the tree rebuilt from it. */
  record Restored(SnapshotHeader header, Ledger ledger, MerkleTree tree) {}

  /** What the apply thread hands over: the header and a copy of the ledger at its index. */
  record Image(SnapshotHeader header, Ledger.SnapshotCopy copy, long copyNanos) {}

  private final String nodeId;
  private final LedgerLimits limits;
  private final NodeMetrics metrics;
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  // The index of a snapshot written in the background and not yet reported to Ratis, or INVALID.
  private final AtomicLong writtenIndex = new AtomicLong(INVALID);
  private volatile Thread writer;
  // nanoTime has an arbitrary origin: start from "now", not 0, or the first snapshot could wait.
  private volatile long retryWritingAfterNanos = System.nanoTime();
  // Ratis's own snapshot index never goes down: a snapshot older than one loaded since (our own
  // at start, or one installed from the leader) must not be reported.
  private volatile long reportedIndex = INVALID;
  private volatile SnapshotInfo shippedSnapshot;

  private static final String CHECKPOINT_PREFIX = "checkpoint.";

  SnapshotStore(String nodeId, LedgerLimits limits, NodeMetrics metrics) {
    this.nodeId = nodeId;
    this.limits = limits;
    this.metrics = metrics;
  }

  SimpleStateMachineStorage storage() {
    return storage;
  }

  /** Where the history checkpoint that goes with the snapshot at (term, index) lives. */
  Path checkpointDir(long term, long index) {
    Path sm = storage.getSnapshotFile(term, index).toPath().getParent();
    return sm.resolve(checkpointDirName(term, index));
  }

  /** The name of the checkpoint folder that goes with the snapshot at (term, index) in "sm". */
  static String checkpointDirName(long term, long index) {
    return CHECKPOINT_PREFIX + term + "_" + index;
  }

  /**
   * The empty place for a new checkpoint at (term, index), after removing the checkpoints whose
   * snapshot file is gone (Ratis removed it, or it was never written).
   */
  Path newCheckpointDir(long term, long index) throws IOException {
    Path target = checkpointDir(term, index);
    Path sm = target.getParent();
    try (var list = Files.list(sm)) {
      for (Path d : list.filter(Files::isDirectory).toList()) {
        String name = d.getFileName().toString();
        if (name.startsWith(CHECKPOINT_PREFIX)
            && !Files.exists(
                sm.resolve("snapshot." + name.substring(CHECKPOINT_PREFIX.length())))) {
          HistoryStore.deleteTreeIfExists(d);
        }
      }
    }
    HistoryStore.deleteTreeIfExists(target);
    return target;
  }

  /**
   * The newest snapshot as Ratis ships it: its file, then the files of its history checkpoint
   * (Ratis's {@code .md5} files left out), listed once per snapshot. Just the file when it has no
   * checkpoint; null when there is no snapshot.
   */
  SnapshotInfo latestWithCheckpoint() {
    SingleFileSnapshotInfo s = storage.getLatestSnapshot();
    if (s == null) {
      return null;
    }
    SnapshotInfo shipped = shippedSnapshot;
    if (shipped != null && shipped.getTermIndex().equals(s.getTermIndex())) {
      return shipped;
    }
    Path checkpoint = checkpointDir(s.getTerm(), s.getIndex());
    if (!Files.isDirectory(checkpoint)) {
      return s;
    }
    List<FileInfo> files = new ArrayList<>();
    files.add(s.getFile());
    try (var list = Files.list(checkpoint)) {
      list.filter(f -> Files.isRegularFile(f) && !f.toString().endsWith(".md5"))
          .sorted()
          .forEach(f -> files.add(new FileInfo(f, null)));
    } catch (IOException e) {
      LOG.warn("node={} cannot list checkpoint {}: {}", nodeId, checkpoint, e.toString());
      return s;
    }
    shipped = new FileListSnapshotInfo(files, s.getTermIndex());
    shippedSnapshot = shipped;
    return shipped;
  }

  /**
   * The newest snapshot on disk, its digest, name and ledger invariants verified (the caller checks
   * the state root); null when there is none.
   */
  private SnapshotFile.Loaded loadLatest() throws IOException {
    SingleFileSnapshotInfo snapshot = storage.loadLatestSnapshot();
    if (snapshot == null) {
      return null;
    }
    Path file = snapshot.getFile().getPath();
    if (!Files.exists(file)) {
      throw new IOException("snapshot " + file + " is listed but missing");
    }
    if (snapshot.getFile().getFileDigest() != null) {
      MD5FileUtil.verifySavedMD5(file.toFile(), snapshot.getFile().getFileDigest());
    }
    SnapshotFile.Loaded loaded = SnapshotFile.read(file, limits);
    SnapshotHeader header = loaded.header();
    TermIndex fromName = SimpleStateMachineStorage.getTermIndexFromSnapshotFile(file.toFile());
    if (fromName.getIndex() != header.getAppliedIndex()
        || fromName.getTerm() != header.getAppliedTerm()) {
      throw new IOException(
          "snapshot "
              + file
              + " header says "
              + header.getAppliedTerm()
              + ":"
              + header.getAppliedIndex()
              + " but its name says "
              + fromName);
    }
    loaded.ledger().checkInvariants();
    reportedIndex = Math.max(reportedIndex, header.getAppliedIndex());
    return loaded;
  }

  /**
   * The newest snapshot on disk with its Merkle tree rebuilt, and the tree's root checked against
   * the one the snapshot recorded (invariant: a corrupt snapshot stops the node, never installs);
   * null when there is none.
   */
  Restored restoreLatest(boolean merkleEnabled, long proofCacheEntries) throws IOException {
    long started = System.nanoTime();
    SnapshotFile.Loaded loaded = loadLatest();
    if (loaded == null) {
      return null;
    }
    SnapshotHeader header = loaded.header();
    MerkleTree tree =
        merkleEnabled
            ? MerkleTree.build(allAccounts(loaded.ledger()), proofCacheEntries)
            : new MerkleTree(proofCacheEntries);
    byte[] root = tree.root();
    if (!Arrays.equals(root, header.getStateRoot().toByteArray())) {
      throw new IOException(
          "snapshot "
              + loaded.file()
              + " is corrupt: recomputed state root "
              + LedgerStateMachine.hex(root)
              + " differs from the stored "
              + LedgerStateMachine.hex(header.getStateRoot().toByteArray()));
    }
    LOG.info(
        "node={} loaded snapshot {} index={} accounts={} root={} in {} ms",
        nodeId,
        loaded.file(),
        header.getAppliedIndex(),
        tree.size(),
        LedgerStateMachine.hex(root),
        (System.nanoTime() - started) / 1_000_000);
    return new Restored(header, loaded.ledger(), tree);
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

  /**
   * Ratis's takeSnapshot, on the apply thread: returns the index of a snapshot already on disk,
   * else starts writing one from {@code copy} (called only when no write is under way; it may
   * return null for "nothing to snapshot") and returns INVALID.
   */
  long take(Supplier<Image> copy) {
    long done = writtenIndex.getAndSet(INVALID);
    if (done > reportedIndex) {
      reportedIndex = done;
      return done;
    }
    if (writer != null || System.nanoTime() - retryWritingAfterNanos < 0) {
      return INVALID;
    }
    Image image = copy.get();
    if (image == null || image.header().getAppliedIndex() <= reportedIndex) {
      return INVALID;
    }
    Thread t = new Thread(() -> write(image), nodeId + "-snapshot-writer");
    t.setDaemon(true);
    writer = t;
    t.start();
    return INVALID;
  }

  private void write(Image image) {
    SnapshotHeader header = image.header();
    long index = header.getAppliedIndex();
    long term = header.getAppliedTerm();
    long started = System.nanoTime();
    File file = storage.getSnapshotFile(term, index);
    try {
      var md5 = SnapshotFile.write(file.toPath(), header, image.copy());
      MD5FileUtil.saveMD5File(file, md5);
      SnapshotFile.syncDirectory(file.toPath().getParent());
      storage.updateLatestSnapshot(
          new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), term, index));
      long writeNanos = System.nanoTime() - started;
      metrics.snapshot(Duration.ofNanos(image.copyNanos() + writeNanos), file.length());
      writtenIndex.set(index);
      LOG.info(
          "node={} took snapshot {} ({} bytes, {} accounts, {} remembered operations): copied in"
              + " {} ms on the apply thread, written in {} ms in the background",
          nodeId,
          file,
          file.length(),
          image.copy().accounts(),
          image.copy().rememberedOperations(),
          image.copyNanos() / 1_000_000,
          writeNanos / 1_000_000);
    } catch (IOException | RuntimeException e) {
      // The log is kept (nothing was reported); try again later, not on every entry. A snapshot
      // that was written but not recorded (its MD5 file failed) is removed with its MD5 file.
      removeQuietly(file);
      removeQuietly(MD5FileUtil.getDigestFileForFile(file));
      retryWritingAfterNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      LOG.error("node={} snapshot at index {} failed; retrying in 10 s", nodeId, index, e);
    } finally {
      writer = null;
    }
  }

  private void removeQuietly(File f) {
    try {
      java.nio.file.Files.deleteIfExists(f.toPath());
    } catch (IOException e) {
      LOG.warn("node={} could not remove {} after a failed snapshot: {}", nodeId, f, e.toString());
    }
  }

  /** Waits for a snapshot being written, so a clean stop leaves it complete on disk. */
  @Override
  public void close() {
    Thread t = writer;
    if (t != null) {
      try {
        t.join(TimeUnit.SECONDS.toMillis(60));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
