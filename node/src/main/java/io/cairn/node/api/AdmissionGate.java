package io.cairn.node.api;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bounds the API requests a node works on at once: in flight on the whole node (count and bytes)
 * and in flight on one client connection (count). A request over any bound is refused at once (the
 * API answers RESOURCE_EXHAUSTED with a retry hint) rather than queued, so overload shows up as
 * fast, retryable refusals instead of growing memory and latency.
 *
 * <p>"In flight" runs from the moment a request's bytes are read until its call closes, so it
 * covers the time spent waiting in the batcher, in Raft and for a read index.
 */
final class AdmissionGate {
  /** Why a request was refused; {@link #tag} is the metric's {@code reason} tag. */
  enum Refusal {
    NODE_INFLIGHT("node_inflight", "the node's in-flight request limit"),
    NODE_BYTES("node_bytes", "the node's in-flight byte limit"),
    CONNECTION_INFLIGHT("connection_inflight", "this connection's in-flight request limit");

    final String tag;
    final String what;

    Refusal(String tag, String what) {
      this.tag = tag;
      this.what = what;
    }
  }

  /** Per-connection state, attached to each transport when it becomes ready. */
  static final class Connection {
    private final AtomicInteger inflight = new AtomicInteger();

    int inflight() {
      return inflight.get();
    }
  }

  private final int maxRequests;
  private final long maxBytes;
  private final int maxPerConnection;
  private final AtomicInteger requests = new AtomicInteger();
  private final AtomicLong bytes = new AtomicLong();

  AdmissionGate(int maxRequests, long maxBytes, int maxPerConnection) {
    if (maxRequests < 1 || maxBytes < 1 || maxPerConnection < 1) {
      throw new IllegalArgumentException("admission limits must be >= 1");
    }
    this.maxRequests = maxRequests;
    this.maxBytes = maxBytes;
    this.maxPerConnection = maxPerConnection;
  }

  /**
   * Admits a request of {@code size} bytes on {@code connection} (null: count it on the node only)
   * or says why not. An admitted request must be {@link #release released} exactly once. A request
   * larger than the byte bound alone is admitted when nothing else is in flight, so a bound below
   * {@code api.max.request.bytes} cannot starve legal requests.
   */
  Refusal tryAdmit(Connection connection, long size) {
    // The connection first: a connection over its own bound must not, even briefly, inflate the
    // node-wide counts that other clients are judged by.
    if (connection != null && connection.inflight.incrementAndGet() > maxPerConnection) {
      connection.inflight.decrementAndGet();
      return Refusal.CONNECTION_INFLIGHT;
    }
    if (requests.incrementAndGet() > maxRequests) {
      requests.decrementAndGet();
      undo(connection);
      return Refusal.NODE_INFLIGHT;
    }
    long after = bytes.addAndGet(size);
    if (after > maxBytes && after != size) {
      bytes.addAndGet(-size);
      requests.decrementAndGet();
      undo(connection);
      return Refusal.NODE_BYTES;
    }
    return null;
  }

  private static void undo(Connection connection) {
    if (connection != null) {
      connection.inflight.decrementAndGet();
    }
  }

  void release(Connection connection, long size) {
    undo(connection);
    bytes.addAndGet(-size);
    requests.decrementAndGet();
  }

  int inflightRequests() {
    return requests.get();
  }

  long inflightBytes() {
    return bytes.get();
  }

  int maxRequests() {
    return maxRequests;
  }

  long maxBytes() {
    return maxBytes;
  }
}
