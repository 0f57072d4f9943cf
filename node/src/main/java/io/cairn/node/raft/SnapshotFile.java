package io.cairn.node.raft;

import com.google.protobuf.ByteString;
import io.cairn.node.ledger.Ledger;
import io.cairn.node.ledger.LedgerLimits;
import io.cairn.proto.SnapshotHeader;
import io.cairn.proto.SnapshotTrailer;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.util.MD5FileUtil;

/**
 * The on-disk snapshot: {@code SnapshotHeader}, the ledger's own records, then a {@code
 * SnapshotTrailer} holding the SHA-256 of every byte before it. Loading verifies the digest and
 * then the state root (recomputed by the caller), so a flipped byte anywhere is refused with an
 * error that names the file.
 *
 * <p>Written as {@link #FORMAT_VERSION} 2 (roles, owners, principals). Version 1 files are still
 * read, as a ledger without roles, owners or principals: their bytes parse the same way and their
 * root is unchanged (an account without an owner hashes as before). Any other version is refused,
 * naming the file and both versions; a node older than version 2 refuses a version 2 file the same
 * way, so it never loads one without its roles.
 */
final class SnapshotFile {
  static final int FORMAT_VERSION = 2;

  /** The oldest version this node still reads. */
  static final int OLDEST_READABLE_VERSION = 1;

  /** What a verified snapshot file holds. */
  record Loaded(Path file, SnapshotHeader header, Ledger ledger) {}

  private SnapshotFile() {}

  /**
   * Writes atomically: a temporary file, fsync, rename over {@code target}, fsync of the directory;
   * on failure the temporary file is removed. Returns the MD5 of the whole file, which Ratis keeps
   * beside it to check transfers to followers (computed on the way out: reading the file back for
   * it took as long again).
   */
  static MD5Hash write(Path target, SnapshotHeader header, Ledger.SnapshotCopy ledger)
      throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    try {
      MD5Hash md5 = writeTmp(tmp, header, ledger);
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      // The rename is durable only once the directory is: Ratis purges the log up to this
      // snapshot as soon as it is reported, so a crash must not lose the name.
      syncDirectory(target.getParent());
      return md5;
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp); // a failed write leaves nothing behind
      throw e;
    }
  }

  /** Forces a directory's entries (a rename or a new file in it) to disk. */
  static void syncDirectory(Path dir) throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  private static MD5Hash writeTmp(Path tmp, SnapshotHeader header, Ledger.SnapshotCopy ledger)
      throws IOException {
    MessageDigest sha = sha256();
    MessageDigest md5 = MD5FileUtil.newMD5();
    try (FileChannel channel =
            FileChannel.open(
                tmp,
                StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE);
        BufferedOutputStream buffered =
            new BufferedOutputStream(new DigestOutputStream(new Syncing(channel), md5), 1 << 16)) {
      DigestOutputStream digesting = new DigestOutputStream(buffered, sha);
      header.writeDelimitedTo(digesting);
      LedgerSnapshotCodec.write(ledger, digesting);
      digesting.flush();
      digesting.on(false);
      SnapshotTrailer.newBuilder()
          .setSha256(ByteString.copyFrom(sha.digest()))
          .build()
          .writeDelimitedTo(buffered);
      buffered.flush();
      channel.force(true);
    }
    return MD5Hash.newInstance(md5.digest());
  }

  /**
   * Writes to the channel and forces it every {@link #SYNC_BYTES}: a Raft log fsync on the same
   * file system waits for whatever dirty data the journal must flush with it, so a snapshot left to
   * accumulate 40 MB of dirty pages made the log's fsyncs, and so every write, wait.
   */
  private static final class Syncing extends java.io.OutputStream {
    static final long SYNC_BYTES = 4L << 20;
    private final FileChannel channel;
    private final java.io.OutputStream out;
    private long unsynced;

    Syncing(FileChannel channel) {
      this.channel = channel;
      this.out = Channels.newOutputStream(channel);
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      unsynced += len;
      if (unsynced >= SYNC_BYTES) {
        channel.force(false);
        unsynced = 0;
      }
    }
  }

  /** Reads and verifies the digest; throws an IOException naming the file on any defect. */
  static Loaded read(Path file, LedgerLimits limits) throws IOException {
    MessageDigest sha = sha256();
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      DigestInputStream in = new DigestInputStream(raw, sha);
      SnapshotHeader header = SnapshotHeader.parseDelimitedFrom(in);
      if (header == null) {
        throw new IOException("snapshot " + file + " is empty");
      }
      if (header.getFormatVersion() < OLDEST_READABLE_VERSION
          || header.getFormatVersion() > FORMAT_VERSION) {
        throw new IOException(
            "snapshot "
                + file
                + " has format version "
                + header.getFormatVersion()
                + ", this node reads "
                + OLDEST_READABLE_VERSION
                + " to "
                + FORMAT_VERSION);
      }
      Ledger ledger = LedgerSnapshotCodec.read(in, limits);
      in.on(false);
      byte[] computed = sha.digest();
      SnapshotTrailer trailer = SnapshotTrailer.parseDelimitedFrom(in);
      if (trailer == null || !Arrays.equals(trailer.getSha256().toByteArray(), computed)) {
        throw new IOException("snapshot " + file + " is corrupt: SHA-256 does not match");
      }
      if (in.read() != -1) {
        throw new IOException("snapshot " + file + " has bytes after its trailer");
      }
      return new Loaded(file, header, ledger);
    } catch (IOException | RuntimeException e) {
      if (e.getMessage() != null && e.getMessage().contains(file.toString())) {
        throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
      }
      throw new IOException("snapshot " + file + " is corrupt: " + e.getMessage(), e);
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every JVM", e);
    }
  }
}
