package io.cairn.cli;

import io.cairn.proto.BackupManifest;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.SaveSnapshotRequest;
import io.cairn.proto.SnapshotChunk;
import io.cairn.proto.backup.Backup;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cairnctl snapshot save|restore}: online backups, and new clusters seeded from them. */
final class SnapshotCmds {
  private SnapshotCmds() {}

  /** Exit code for a backup that is corrupt, or a target that a restore may not write. */
  static final int BAD_BACKUP = 6;

  @Command(
      name = "snapshot",
      description = {
        "Back up a node's state to one file, and seed a new cluster's data dirs from it.",
        "Exit code " + BAD_BACKUP + ": the backup is corrupt, or the target is not usable."
      },
      subcommands = {SaveCmd.class, RestoreCmd.class})
  static final class SnapshotCmd extends CliCommand.Group {}

  @Command(
      name = "save",
      description =
          "Write an online backup of one node (the first --endpoint) to FILE: its balances,"
              + " roles, remembered operations and history at its applied index, consistent at"
              + " that index. Needs admin. Any node will do: it backs up what it has applied. The"
              + " file is written beside FILE, read back and checked, then renamed to FILE.")
  static final class SaveCmd extends CliCommand {
    @Parameters(index = "0", paramLabel = "FILE", description = "Where to write (must not exist).")
    Path file;

    @Option(
        names = "--deadline",
        paramLabel = "SECONDS",
        defaultValue = "3600",
        description = "Give up after this long (default ${DEFAULT-VALUE}).")
    long deadlineSeconds;

    @Override
    public Integer call() throws Exception {
      if (Files.exists(file)) {
        throw new IllegalArgumentException(file + " already exists; a backup never overwrites");
      }
      String endpoint = endpoints().get(0);
      Path partial = file.resolveSibling(file.getFileName() + ".partial");
      long started = System.nanoTime();
      ManagedChannel channel =
          transport()
              .apply(NettyChannelBuilder.forTarget(endpoint))
              .maxInboundMessageSize(4 << 20)
              .build();
      long bytes;
      try {
        bytes = receive(channel, partial);
      } catch (StatusRuntimeException e) {
        Files.deleteIfExists(partial);
        err().println("cairnctl: " + endpoint + " refused the backup: " + e.getStatus());
        return Cairnctl.TRANSPORT;
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      BackupManifest m;
      try (InputStream in = Files.newInputStream(partial)) {
        m = Backup.verify(in, n -> {});
      } catch (IOException e) {
        Files.deleteIfExists(partial);
        err().println("cairnctl: the backup received from " + endpoint + " is corrupt: " + e);
        return BAD_BACKUP;
      }
      Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE);
      Backup.sync(file.toAbsolutePath().getParent());
      double seconds = (System.nanoTime() - started) / 1e9;
      Map<String, Object> j = describe(m);
      j.put("file", file.toString());
      j.put("bytes", bytes);
      j.put("seconds", seconds);
      emit(
          String.format(
              "saved %s: node %s at index %d (term %d), root %s, %d files, %,d bytes, in %.1f s",
              file,
              m.getNodeId(),
              m.getAppliedIndex(),
              m.getAppliedTerm(),
              hex(m.getStateRoot().toByteArray()),
              m.getFilesCount(),
              bytes,
              seconds),
          j);
      return Cairnctl.OK;
    }

    /** Streams the backup into {@code partial}, fsynced; returns its size. */
    private long receive(ManagedChannel channel, Path partial) throws IOException {
      long bytes = 0;
      long reported = 0;
      try (FileChannel ch =
              FileChannel.open(
                  partial,
                  StandardOpenOption.CREATE,
                  StandardOpenOption.TRUNCATE_EXISTING,
                  StandardOpenOption.WRITE);
          OutputStream out = Channels.newOutputStream(ch)) {
        Iterator<SnapshotChunk> chunks =
            LedgerServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS)
                .saveSnapshot(SaveSnapshotRequest.getDefaultInstance());
        while (chunks.hasNext()) {
          SnapshotChunk c = chunks.next();
          c.getData().writeTo(out);
          bytes += c.getData().size();
          if (bytes - reported >= 64L << 20) {
            reported = bytes;
            err().printf("received %,d MiB%n", bytes >> 20);
            err().flush();
          }
        }
        out.flush();
        ch.force(true);
      }
      return bytes;
    }
  }

  @Command(
      name = "restore",
      description =
          "Check a backup and seed a new node's data dir from it: the file's checksum and sizes,"
              + " then the state root recomputed from its accounts. The seed goes into"
              + " DIR/restore; the node installs it when it starts with node.data.dir=DIR, and"
              + " checks the root again. Seed every node of the new cluster from the same backup."
              + " DIR must be new or empty.")
  static final class RestoreCmd extends CliCommand {
    @Parameters(index = "0", paramLabel = "FILE", description = "A file from snapshot save.")
    Path file;

    @Option(
        names = "--data-dir",
        required = true,
        paramLabel = "DIR",
        description = "The new node's data dir (its node.data.dir key).")
    Path dataDir;

    @Option(
        names = "--max-accounts",
        paramLabel = "N",
        defaultValue = "10000000",
        description = "Refuse a snapshot claiming more accounts (default ${DEFAULT-VALUE}).")
    long maxAccounts;

    @Override
    public Integer call() throws Exception {
      if (!Files.isRegularFile(file)) {
        throw new IllegalArgumentException("cannot read " + file);
      }
      if (Files.exists(dataDir) && !isEmptyDir(dataDir)) {
        err()
            .println(
                "cairnctl: "
                    + dataDir
                    + " is not empty; a restore never overwrites a node's state");
        return BAD_BACKUP;
      }
      Files.createDirectories(dataDir);
      Path seed = dataDir.resolve("restore");
      long started = System.nanoTime();
      BackupManifest m;
      Backup.SnapshotCheck check;
      try (InputStream in = Files.newInputStream(file)) {
        m = Backup.unpack(in, seed, n -> err().printf("read %,d MiB%n", n >> 20).flush());
        check = Backup.checkSnapshot(seed.resolve(Backup.SNAPSHOT), maxAccounts);
        String mismatch = mismatch(m, check);
        if (mismatch != null) {
          throw new IOException(mismatch);
        }
      } catch (IOException e) {
        Backup.deleteTree(seed);
        err().println("cairnctl: " + file + " cannot be restored: " + e.getMessage());
        return BAD_BACKUP;
      }
      double seconds = (System.nanoTime() - started) / 1e9;
      Map<String, Object> j = describe(m);
      j.put("seed", seed.toString());
      j.put("accounts", check.accounts());
      j.put("seconds", seconds);
      emit(
          String.format(
              "restored %s into %s: index %d (term %d), %,d accounts, root %s checked, in %.1f s;"
                  + " start the node with node.data.dir=%s to install it",
              file,
              seed,
              m.getAppliedIndex(),
              m.getAppliedTerm(),
              check.accounts(),
              hex(m.getStateRoot().toByteArray()),
              seconds,
              dataDir),
          j);
      return Cairnctl.OK;
    }

    /** Why the snapshot inside does not match its manifest, or null when it does. */
    private static String mismatch(BackupManifest m, Backup.SnapshotCheck check) {
      if (!check.rootMatches()) {
        return "the root recomputed from its accounts, "
            + hex(check.computedRoot())
            + ", is not the snapshot's "
            + hex(check.header().getStateRoot().toByteArray());
      }
      if (!check.header().getStateRoot().equals(m.getStateRoot())
          || check.header().getAppliedIndex() != m.getAppliedIndex()
          || check.header().getAppliedTerm() != m.getAppliedTerm()) {
        return "its snapshot is at a different index, term or root than its manifest says";
      }
      return null;
    }

    private static boolean isEmptyDir(Path dir) throws IOException {
      if (!Files.isDirectory(dir)) {
        return false;
      }
      try (Stream<Path> s = Files.list(dir)) {
        return s.findAny().isEmpty();
      }
    }
  }

  static Map<String, Object> describe(BackupManifest m) {
    Map<String, Object> j = Json.object();
    j.put("node_id", m.getNodeId());
    j.put("applied_index", Json.u64(m.getAppliedIndex()));
    j.put("applied_term", Json.u64(m.getAppliedTerm()));
    j.put("state_root", hex(m.getStateRoot().toByteArray()));
    j.put("files", m.getFilesCount());
    j.put("created_at_millis", m.getCreatedAtMillis());
    return j;
  }

  static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }
}
