package io.cairn.node.api;

import io.cairn.node.metrics.NodeMetrics;
import io.cairn.proto.ClusterStatusResponse;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The free-space watermark ({@code node.data.min.free.bytes}), for this node and as its peers
 * report it: the cluster's read-only mode, as etcd's NOSPACE alarm is.
 *
 * <p>Every entry goes to every member's disk, so a member whose disk fills would stop (the store
 * cannot take an entry: the node exits and a supervisor restarts it into the same full disk). So
 * once a second this node reads the free space of its data directory's file system; below the
 * watermark it is low on space: a WARN line, {@code cairn.data.dir.low.space} = 1, and {@code
 * ClusterStatus.low_on_space} for its peers, who ask every node for its status once a second anyway
 * ({@link ClusterClock}). While this node or any peer whose last answer (at most 5 s old) said so
 * is low, this node refuses writes as leader with NO_SPACE naming that member; reads go on, and so
 * do membership changes and backups, which are how an operator makes room. A member leaves the
 * state by itself once its free space is 10% above the watermark again (so a disk at the boundary
 * does not flap), and says so in an INFO line.
 *
 * <p>The check is once a second, so the watermark must hold more than a second of writes plus a
 * snapshot; the default (1 GiB) is generous against the tens of MB a second a node writes at full
 * load. It is an admission rule, not replicated state: a member decides from its own disk.
 */
final class SpaceWatch implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SpaceWatch.class);
  static final long CHECK_MILLIS = 1000;
  private static final long FRESH_NANOS = TimeUnit.MILLISECONDS.toNanos(5000);

  /** A member low on space: who, its free bytes and its watermark ({@code minBytes}, 0 unknown). */
  record Low(String nodeId, long freeBytes, long minBytes) {}

  private record PeerSaid(Low low, long atNanos) {}

  private final String nodeId;
  private final Path dir;
  private final LongSupplier minFreeBytes;
  private final Map<String, PeerSaid> peers = new ConcurrentHashMap<>();
  private final ScheduledExecutorService ticker;
  private volatile long freeBytes = -1; // -1: not read yet
  private volatile boolean low;

  /**
   * @param dir this node's data directory
   * @param minFreeBytes the watermark, read at every check (a hot key); 0 turns it off
   */
  SpaceWatch(String nodeId, Path dir, LongSupplier minFreeBytes, NodeMetrics metrics) {
    this.nodeId = nodeId;
    this.dir = dir;
    this.minFreeBytes = minFreeBytes;
    this.ticker = ApiServer.ticker("cairn-space");
    metrics.gauge(
        "cairn.data.dir.free.bytes",
        "Free bytes in the file system of node.data.dir, at the last check",
        () -> Math.max(0, freeBytes));
    metrics.gauge(
        "cairn.data.dir.low.space",
        "1 while this node's free space is below node.data.min.free.bytes: the cluster refuses"
            + " writes (NO_SPACE)",
        () -> low ? 1 : 0);
  }

  /** Checks once now (so a node that starts on a full disk is read-only from its first answer). */
  void start() {
    check();
    ticker.scheduleWithFixedDelay(this::check, CHECK_MILLIS, CHECK_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** This node's free bytes at the last check (0 before the first). */
  long freeBytes() {
    return Math.max(0, freeBytes);
  }

  /** Whether this node is low on space. */
  boolean low() {
    return low;
  }

  /** What a peer said in its last status answer. */
  void peerSaid(ClusterStatusResponse r) {
    if (r.getNodeId().isEmpty() || r.getNodeId().equals(nodeId)) {
      return;
    }
    if (r.getLowOnSpace()) {
      peers.put(
          r.getNodeId(),
          new PeerSaid(new Low(r.getNodeId(), r.getFreeBytes(), 0), System.nanoTime()));
    } else {
      peers.remove(r.getNodeId());
    }
  }

  /**
   * The member for whose space writes are refused now: this node if it is low, else a peer whose
   * answer of the last 5 s said it is; null when none is. A peer that stopped answering is
   * forgotten after 5 s: it takes no entries then, and says so again when it is back.
   */
  Low anyLow() {
    if (low) {
      return new Low(nodeId, freeBytes(), minFreeBytes.getAsLong());
    }
    long now = System.nanoTime();
    for (PeerSaid p : peers.values()) {
      if (now - p.atNanos() < FRESH_NANOS) {
        return p.low();
      }
    }
    return null;
  }

  /** Reads the free space and moves in or out of the low state (package-private for tests). */
  void check() {
    long free;
    try {
      FileStore store = Files.getFileStore(dir);
      free = store.getUsableSpace();
    } catch (IOException | RuntimeException e) {
      // Unreadable: keep the last state rather than guess either way.
      LOG.warn("cannot read the free space of {}: {}", dir, e.toString());
      return;
    }
    freeBytes = free;
    long min = minFreeBytes.getAsLong();
    boolean next = next(low, free, min);
    if (next && !low) {
      LOG.warn(
          "NO SPACE: {} has {} bytes free, below node.data.min.free.bytes={}; the cluster refuses"
              + " writes (NO_SPACE) until it has {} again",
          dir,
          free,
          min,
          leaveAbove(min));
    } else if (!next && low) {
      LOG.info("space is back: {} has {} bytes free; writes are accepted again", dir, free);
    }
    low = next;
  }

  /** The state after a check that read {@code free} bytes, given the state before. */
  static boolean next(boolean wasLow, long free, long min) {
    if (min <= 0) {
      return false;
    }
    return wasLow ? free < leaveAbove(min) : free < min;
  }

  /** Free bytes at which a low member is writable again: 10% above the watermark. */
  static long leaveAbove(long min) {
    return min + min / 10;
  }

  @Override
  public void close() {
    ticker.shutdownNow();
  }
}
