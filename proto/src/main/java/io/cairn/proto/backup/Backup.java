package io.cairn.proto.backup;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Parser;
import io.cairn.proto.Account;
import io.cairn.proto.BackupFile;
import io.cairn.proto.BackupManifest;
import io.cairn.proto.BackupTrailer;
import io.cairn.proto.LedgerSnapshotHeader;
import io.cairn.proto.RoleGrant;
import io.cairn.proto.SnapshotHeader;
import io.cairn.proto.verify.StateHashing;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongConsumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The backup file of {@code cairnctl snapshot save|restore}: a length-delimited {@link
 * BackupManifest}, the bytes of each file it lists (in its order, of the sizes it gives), then a
 * length-delimited {@link BackupTrailer} with the SHA-256 of every byte before it.
 *
 * <p>The files are a node's snapshot at one applied index ({@value #SNAPSHOT}) and the history
 * store's checkpoint at the same index ({@value #CHECKPOINT_PREFIX}{@code NAME}). Reading checks
 * every limit before it allocates, writes nothing outside the target folder, and leaves nothing
 * behind when any check fails.
 */
public final class Backup {
  /** The format version written, and the only one read. */
  public static final int FORMAT_VERSION = 1;

  /** The name of the snapshot file inside a backup. */
  public static final String SNAPSHOT = "snapshot";

  /** The prefix of the history checkpoint's files inside a backup. */
  public static final String CHECKPOINT_PREFIX = "checkpoint/";

  /** The manifest's own name in an unpacked backup folder. */
  public static final String MANIFEST = "manifest.pb";

  /** Limits a reader checks before it trusts a manifest. */
  public static final int MAX_MANIFEST_BYTES = 1 << 20;

  /** The most files one backup may list. */
  public static final int MAX_FILES = 100_000;

  private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private Backup() {}

  /**
   * Writes a backup of {@code files} (name in the backup → file on disk) to {@code out}; the
   * manifest's {@code files} are filled in from the files' sizes. Files must not change while they
   * are written: a file whose size changed fails the write.
   *
   * @return the manifest written
   */
  public static BackupManifest write(
      OutputStream out, BackupManifest header, Map<String, Path> files) throws IOException {
    BackupManifest.Builder m = header.toBuilder().clearFiles().setFormatVersion(FORMAT_VERSION);
    for (var e : files.entrySet()) {
      checkName(e.getKey());
      m.addFiles(BackupFile.newBuilder().setName(e.getKey()).setSize(Files.size(e.getValue())));
    }
    BackupManifest manifest = m.build();
    checkManifest(manifest);
    MessageDigest sha = sha256();
    DigestOutputStream digesting = new DigestOutputStream(out, sha);
    manifest.writeDelimitedTo(digesting);
    byte[] buf = new byte[1 << 16];
    for (BackupFile f : manifest.getFilesList()) {
      long copied = 0;
      try (InputStream in = Files.newInputStream(files.get(f.getName()))) {
        for (int n; (n = in.read(buf)) > 0; ) {
          copied += n;
          if (copied > f.getSize()) {
            break;
          }
          digesting.write(buf, 0, n);
        }
      }
      if (copied != f.getSize()) {
        throw new IOException("backup file " + f.getName() + " changed size while it was written");
      }
    }
    digesting.flush();
    BackupTrailer.newBuilder()
        .setSha256(ByteString.copyFrom(sha.digest()))
        .build()
        .writeDelimitedTo(out);
    out.flush();
    return manifest;
  }

  /**
   * Reads a backup from {@code in} into the new folder {@code target} (the manifest as {@value
   * #MANIFEST}, the files under their names), checking sizes, names and the trailer's SHA-256, and
   * that nothing follows the trailer. The files are written into a sibling folder first, fsynced,
   * and renamed to {@code target} only when every check passed; on failure nothing is left.
   *
   * @param progress told the number of bytes read so far, every few MiB
   * @return the manifest
   * @throws IOException naming what is wrong: a truncated, corrupt or oversized backup
   */
  public static BackupManifest unpack(InputStream in, Path target, LongConsumer progress)
      throws IOException {
    if (Files.exists(target)) {
      throw new IOException(target + " already exists");
    }
    Path partial = target.resolveSibling(target.getFileName() + ".partial");
    deleteTree(partial);
    Files.createDirectories(partial.resolve("checkpoint"));
    try {
      BackupManifest manifest = readInto(new BufferedInputStream(in, 1 << 16), partial, progress);
      syncTree(partial);
      Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
      sync(target.toAbsolutePath().getParent());
      return manifest;
    } catch (IOException | RuntimeException e) {
      deleteTree(partial);
      throw e;
    }
  }

  /**
   * Reads a whole backup from {@code in} and checks it as {@link #unpack} does, keeping nothing:
   * for checking a backup file after it was written.
   */
  public static BackupManifest verify(InputStream in, LongConsumer progress) throws IOException {
    return readInto(new BufferedInputStream(in, 1 << 16), null, progress);
  }

  /** Reads a backup, writing its files into {@code dir}, or only checking them when it is null. */
  private static BackupManifest readInto(InputStream raw, Path dir, LongConsumer progress)
      throws IOException {
    MessageDigest sha = sha256();
    CountingInput counted = new CountingInput(raw, progress);
    DigestInputStream in = new DigestInputStream(counted, sha);
    BackupManifest manifest = readDelimited(in, BackupManifest.parser(), "manifest");
    if (manifest.getFormatVersion() != FORMAT_VERSION) {
      throw new IOException(
          "backup format version "
              + manifest.getFormatVersion()
              + " is not one this version reads ("
              + FORMAT_VERSION
              + ")");
    }
    checkManifest(manifest);
    byte[] buf = new byte[1 << 16];
    for (BackupFile f : manifest.getFilesList()) {
      if (dir == null) {
        skipExactly(in, f.getSize(), buf, f.getName());
      } else {
        copyExactly(in, dir.resolve(f.getName()), f.getSize(), buf, f.getName());
      }
    }
    in.on(false);
    byte[] computed = sha.digest();
    BackupTrailer trailer = readDelimited(in, BackupTrailer.parser(), "trailer");
    if (!MessageDigest.isEqual(trailer.getSha256().toByteArray(), computed)) {
      throw new IOException("backup is corrupt: its SHA-256 does not match its trailer");
    }
    if (in.read() != -1) {
      throw new IOException("backup has bytes after its trailer");
    }
    if (dir != null) {
      try (OutputStream out = Files.newOutputStream(dir.resolve(MANIFEST))) {
        manifest.writeTo(out);
      }
    }
    return manifest;
  }

  /** The manifest of an unpacked backup folder. */
  public static BackupManifest manifestOf(Path dir) throws IOException {
    byte[] bytes = Files.readAllBytes(dir.resolve(MANIFEST));
    return BackupManifest.parseFrom(bytes);
  }

  /** What a snapshot file says of itself, and the root recomputed from its accounts. */
  public record SnapshotCheck(SnapshotHeader header, long accounts, byte[] computedRoot) {
    /** Whether the recomputed root is the one the snapshot recorded. */
    public boolean rootMatches() {
      return MessageDigest.isEqual(computedRoot, header.getStateRoot().toByteArray());
    }
  }

  /**
   * Reads a node's snapshot file (format in {@code snapshot.proto}) far enough to recompute its
   * state root from its accounts with {@link StateHashing#rootOf}: the check an outsider can make
   * without the node. (The node checks the file's own SHA-256 and the root again when it loads it.)
   *
   * @param maxAccounts refuse files claiming more accounts than this
   */
  public static SnapshotCheck checkSnapshot(Path file, long maxAccounts) throws IOException {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      SnapshotHeader header = SnapshotHeader.parseDelimitedFrom(in);
      LedgerSnapshotHeader ledger = LedgerSnapshotHeader.parseDelimitedFrom(in);
      if (header == null || ledger == null) {
        throw new IOException("snapshot " + file + " is truncated");
      }
      if (ledger.getAccountCount() > maxAccounts || ledger.getRoleCount() > maxAccounts) {
        throw new IOException(
            "snapshot " + file + " claims " + ledger.getAccountCount() + " accounts");
      }
      for (long i = 0; i < ledger.getRoleCount(); i++) {
        if (RoleGrant.parseDelimitedFrom(in) == null) {
          throw new IOException("snapshot " + file + " is truncated in its roles");
        }
      }
      List<Account> accounts = new ArrayList<>((int) ledger.getAccountCount());
      for (long i = 0; i < ledger.getAccountCount(); i++) {
        Account a = Account.parseDelimitedFrom(in);
        if (a == null) {
          throw new IOException("snapshot " + file + " is truncated in its accounts");
        }
        accounts.add(a);
      }
      return new SnapshotCheck(header, accounts.size(), StateHashing.rootOf(accounts));
    } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
      throw new IOException("snapshot " + file + " is corrupt: " + e.getMessage(), e);
    }
  }

  /** The files of an unpacked backup folder, in manifest order: name → path. */
  public static Map<String, Path> filesOf(Path dir, BackupManifest manifest) {
    Map<String, Path> files = new LinkedHashMap<>();
    for (BackupFile f : manifest.getFilesList()) {
      files.put(f.getName(), dir.resolve(f.getName()));
    }
    return files;
  }

  // ---- checks ----

  private static void checkManifest(BackupManifest m) throws IOException {
    if (m.getFilesCount() > MAX_FILES) {
      throw new IOException("backup lists " + m.getFilesCount() + " files, over " + MAX_FILES);
    }
    Set<String> seen = new HashSet<>();
    for (BackupFile f : m.getFilesList()) {
      checkName(f.getName());
      if (!seen.add(f.getName())) {
        throw new IOException("backup lists " + f.getName() + " twice");
      }
      if (f.getSize() < 0) {
        throw new IOException("backup file " + f.getName() + " has a negative size");
      }
    }
    if (!seen.contains(SNAPSHOT)) {
      throw new IOException("backup holds no snapshot file");
    }
    if (m.getStateRoot().size() != StateHashing.HASH_BYTES) {
      throw new IOException("backup's state root is not " + StateHashing.HASH_BYTES + " bytes");
    }
  }

  private static void checkName(String name) throws IOException {
    boolean ok =
        name.equals(SNAPSHOT)
            || (name.startsWith(CHECKPOINT_PREFIX)
                && FILE_NAME.matcher(name.substring(CHECKPOINT_PREFIX.length())).matches());
    if (!ok) {
      throw new IOException("backup file name '" + name + "' is not one a backup may hold");
    }
  }

  // ---- plumbing ----

  private static <T> T readDelimited(InputStream in, Parser<T> parser, String what)
      throws IOException {
    int first = in.read();
    if (first == -1) {
      throw new EOFException("backup is truncated before its " + what);
    }
    int size = CodedInputStream.readRawVarint32(first, in);
    if (size < 0 || size > MAX_MANIFEST_BYTES) {
      throw new IOException("backup's " + what + " claims " + size + " bytes");
    }
    byte[] bytes = in.readNBytes(size);
    if (bytes.length != size) {
      throw new EOFException("backup is truncated in its " + what);
    }
    try {
      return parser.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IOException("backup's " + what + " is corrupt: " + e.getMessage(), e);
    }
  }

  private static void skipExactly(InputStream in, long size, byte[] buf, String name)
      throws IOException {
    long left = size;
    while (left > 0) {
      int n = in.read(buf, 0, (int) Math.min(buf.length, left));
      if (n < 0) {
        throw new EOFException("backup is truncated in " + name);
      }
      left -= n;
    }
  }

  private static void copyExactly(InputStream in, Path to, long size, byte[] buf, String name)
      throws IOException {
    try (FileChannel ch =
            FileChannel.open(to, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        OutputStream out = java.nio.channels.Channels.newOutputStream(ch)) {
      long left = size;
      while (left > 0) {
        int n = in.read(buf, 0, (int) Math.min(buf.length, left));
        if (n < 0) {
          throw new EOFException("backup is truncated in " + name);
        }
        out.write(buf, 0, n);
        left -= n;
      }
      out.flush();
      ch.force(true);
    }
  }

  private static final class CountingInput extends java.io.FilterInputStream {
    private static final long EVERY = 16L << 20;
    private final LongConsumer progress;
    private long count;
    private long reported;

    CountingInput(InputStream in, LongConsumer progress) {
      super(in);
      this.progress = progress;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        counted(1);
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        counted(n);
      }
      return n;
    }

    private void counted(long n) {
      count += n;
      if (count - reported >= EVERY) {
        reported = count;
        progress.accept(count);
      }
    }
  }

  private static void syncTree(Path dir) throws IOException {
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.filter(Files::isDirectory).toList()) {
        sync(p);
      }
    }
  }

  /** Forces a directory's entries to disk. */
  public static void sync(Path dir) throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  /** Removes a folder and everything in it, if it exists. */
  public static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> all = Files.walk(p)) {
      for (Path q : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
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
