package io.cairn.node.raft;

import io.cairn.proto.BackupManifest;
import io.cairn.proto.backup.Backup;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.server.storage.RaftStorageDirectory;
import org.apache.ratis.server.storage.RaftStorageMetadata;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Online backups and restores ({@code cairnctl snapshot save|restore}).
 *
 * <p>A backup is the node's state at its applied index: a snapshot file written from a copy of the
 * ledger, and the history store's checkpoint taken at the same index, streamed in the format of
 * {@link Backup}. Its work folder ({@value #WORK_PREFIX}...) in the group's folder is removed when
 * it ends, and at the next start if the node died during one.
 *
 * <p>A restore is two steps. {@code cairnctl snapshot restore} checks a backup and unpacks it into
 * {@value #SEED} in a new node's data dir. At start, before Ratis opens its storage, {@link
 * #installSeed} turns the seed into the Ratis storage Ratis would have written had the node taken
 * that snapshot itself: the snapshot file and its MD5 in "sm", the checkpoint beside it, and the
 * term of the snapshot's last entry as the current term. The node then loads the snapshot as it
 * does on any restart (checking its digest and state root, and installing the history from the
 * checkpoint) and the log goes on after the snapshot's index. Every node of the new cluster is
 * seeded from the same backup.
 */
public final class Backups {
  private static final Logger LOG = LoggerFactory.getLogger(Backups.class);

  /**
   * The folder in a data dir that {@code cairnctl snapshot restore} writes and a start installs.
   */
  public static final String SEED = "restore";

  static final String WORK_PREFIX = "backup.";

  /** The image of the state to back up, taken into the given checkpoint folder. */
  interface Images {
    SnapshotStore.Image take(Path checkpoint) throws IOException;
  }

  private Backups() {}

  /** Writes a backup of the state {@code images} gives, using a work folder in {@code root}. */
  static BackupManifest write(Images images, Path root, String nodeId, OutputStream out)
      throws IOException {
    if (root == null) {
      throw new IllegalStateException("the node has not started yet");
    }
    Path work = root.resolve(WORK_PREFIX + System.nanoTime());
    Files.createDirectories(work);
    try {
      long started = System.nanoTime();
      Path checkpoint = work.resolve("checkpoint");
      SnapshotStore.Image image = images.take(checkpoint);
      if (image == null) {
        throw new IllegalStateException("nothing has been applied yet");
      }
      Path snapshot = work.resolve(Backup.SNAPSHOT);
      SnapshotFile.write(snapshot, image.header(), image.copy());
      Map<String, Path> files = new LinkedHashMap<>();
      files.put(Backup.SNAPSHOT, snapshot);
      try (Stream<Path> list = Files.list(checkpoint)) {
        list.filter(Files::isRegularFile)
            .sorted()
            .forEach(f -> files.put(Backup.CHECKPOINT_PREFIX + f.getFileName(), f));
      }
      BackupManifest header =
          BackupManifest.newBuilder()
              .setAppliedIndex(image.header().getAppliedIndex())
              .setAppliedTerm(image.header().getAppliedTerm())
              .setStateRoot(image.header().getStateRoot())
              .setNodeId(nodeId)
              .setCreatedAtMillis(System.currentTimeMillis())
              .build();
      long prepared = System.nanoTime();
      BackupManifest written = Backup.write(out, header, files);
      LOG.info(
          "node={} backup at index {}: {} files, prepared in {} ms, sent in {} ms",
          nodeId,
          written.getAppliedIndex(),
          written.getFilesCount(),
          (prepared - started) / 1_000_000,
          (System.nanoTime() - prepared) / 1_000_000);
      return written;
    } finally {
      Backup.deleteTree(work);
    }
  }

  /** Removes the work folders of backups a stopped node left behind. */
  static void removeLeftovers(Path root) throws IOException {
    if (!Files.isDirectory(root)) {
      return;
    }
    try (Stream<Path> list = Files.list(root)) {
      for (Path p : list.toList()) {
        if (p.getFileName().toString().startsWith(WORK_PREFIX)) {
          Backup.deleteTree(p);
        }
      }
    }
  }

  /**
   * Installs the seed a restore left in {@code dataDir} as the group's Ratis storage, then removes
   * it; does nothing when there is no seed.
   *
   * @throws IOException when the data dir already holds the group's storage (a restore never
   *     overwrites a node's state), or the seed is incomplete
   */
  static void installSeed(Path dataDir, RaftGroupId group) throws IOException {
    Path seed = dataDir.resolve(SEED);
    if (!Files.isDirectory(seed)) {
      return;
    }
    Path groupDir = dataDir.resolve(group.getUuid().toString());
    if (Files.exists(
        groupDir.resolve(RaftStorageDirectory.CURRENT_DIR_NAME).resolve("raft-meta"))) {
      throw new IOException(
          dataDir
              + " holds both a restore seed ("
              + seed
              + ") and the storage of a running group ("
              + groupDir
              + "): a restore never overwrites a node's state; remove one of them");
    }
    BackupManifest m = Backup.manifestOf(seed);
    long term = m.getAppliedTerm();
    long index = m.getAppliedIndex();
    RaftStorage storage =
        RaftStorage.newBuilder()
            .setDirectory(groupDir.toFile())
            .setOption(RaftStorage.StartupOption.FORMAT)
            .setStorageFreeSpaceMin(RaftServerConfigKeys.STORAGE_FREE_SPACE_MIN_DEFAULT)
            .build();
    try {
      storage.initialize();
      // The log starts after the snapshot, and elections must start after its term: a new term
      // lower than the snapshot's would let a node holding only the snapshot outvote entries
      // committed after it.
      storage
          .getMetadataFile()
          .persist(
              RaftStorageMetadata.valueOf(term, RaftStorageMetadata.getDefault().getVotedFor()));
      Path sm = storage.getStorageDir().getStateMachineDir().toPath();
      File snapshot =
          sm.resolve(SimpleStateMachineStorage.getSnapshotFileName(term, index)).toFile();
      Files.move(seed.resolve(Backup.SNAPSHOT), snapshot.toPath(), StandardCopyOption.ATOMIC_MOVE);
      MD5FileUtil.saveMD5File(snapshot, MD5FileUtil.computeMd5ForFile(snapshot));
      Files.move(
          seed.resolve("checkpoint"),
          sm.resolve(SnapshotStore.checkpointDirName(term, index)),
          StandardCopyOption.ATOMIC_MOVE);
      Backup.sync(sm);
    } finally {
      storage.close();
    }
    Backup.deleteTree(groupDir.resolve("history"));
    Backup.deleteTree(seed);
    Backup.sync(dataDir);
    LOG.info(
        "installed the restore seed {} as {}: snapshot at index {} term {} from node {}, root {}",
        seed,
        groupDir,
        index,
        term,
        m.getNodeId(),
        LedgerStateMachine.hex(m.getStateRoot().toByteArray()));
  }
}
