package io.cairn.cli.bench;

import com.google.common.util.concurrent.ListenableFuture;
import io.cairn.cli.Transport;
import io.cairn.proto.ClusterStatusRequest;
import io.cairn.proto.ClusterStatusResponse;
import io.cairn.proto.LedgerServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code bench failover}'s view of the cluster: it asks every endpoint for ClusterStatus every
 * {@link #POLL_MILLIS} ms (each with a {@link #STATUS_DEADLINE_MILLIS} ms deadline, all at once, on
 * channels of its own that skip gRPC's reconnect backoff, so a restarted node is seen as soon as it
 * answers) and keeps the latest answer of each. A node is "up" while its last answer is younger
 * than {@link #FRESH_MILLIS} ms.
 */
final class ClusterWatch implements AutoCloseable {
  static final long POLL_MILLIS = 100;
  static final long STATUS_DEADLINE_MILLIS = 400;
  static final long FRESH_MILLIS = 1000;

  /** One node's latest answer, and when (nanoTime) it came. */
  record NodeView(String endpoint, ClusterStatusResponse status, long atNanos) {}

  private final List<String> endpoints;
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final NodeView[] latest;

  ClusterWatch(Transport transport, List<String> endpoints) {
    this.endpoints = List.copyOf(endpoints);
    this.latest = new NodeView[endpoints.size()];
    for (String e : endpoints) {
      channels.add(transport.apply(NettyChannelBuilder.forTarget(e)).build());
    }
  }

  /** Asks every endpoint once, all at once; waits at most the deadline and a little. */
  void poll() throws InterruptedException {
    List<ListenableFuture<ClusterStatusResponse>> calls = new ArrayList<>();
    for (ManagedChannel ch : channels) {
      calls.add(
          LedgerServiceGrpc.newFutureStub(ch)
              .withDeadlineAfter(STATUS_DEADLINE_MILLIS, TimeUnit.MILLISECONDS)
              .clusterStatus(ClusterStatusRequest.getDefaultInstance()));
    }
    for (int i = 0; i < calls.size(); i++) {
      try {
        ClusterStatusResponse s =
            calls.get(i).get(STATUS_DEADLINE_MILLIS + 100, TimeUnit.MILLISECONDS);
        synchronized (latest) {
          latest[i] = new NodeView(endpoints.get(i), s, System.nanoTime());
        }
      } catch (ExecutionException | TimeoutException e) {
        calls.get(i).cancel(true);
        channels.get(i).resetConnectBackoff();
      }
    }
  }

  /** The fresh answers, one per node that answered lately. */
  List<NodeView> fresh() {
    long now = System.nanoTime();
    List<NodeView> out = new ArrayList<>();
    synchronized (latest) {
      for (NodeView v : latest) {
        if (v != null && now - v.atNanos() < TimeUnit.MILLISECONDS.toNanos(FRESH_MILLIS)) {
          out.add(v);
        }
      }
    }
    return out;
  }

  /** The node ids ({@code n1}) that answered lately. */
  Set<String> upNodes() {
    Set<String> up = new HashSet<>();
    for (NodeView v : fresh()) {
      up.add(v.status().getNodeId());
    }
    return up;
  }

  /** The fresh view of the node that says it is leader (the highest term if two do), or null. */
  NodeView leader() {
    NodeView best = null;
    for (NodeView v : fresh()) {
      if ("LEADER".equals(v.status().getRole())
          && (best == null
              || Long.compareUnsigned(v.status().getTerm(), best.status().getTerm()) > 0)) {
        best = v;
      }
    }
    return best;
  }

  /** The node id an endpoint answered with last, or null if it never answered. */
  String nodeIdOf(String endpoint) {
    synchronized (latest) {
      for (NodeView v : latest) {
        if (v != null && v.endpoint().equals(endpoint)) {
          return v.status().getNodeId();
        }
      }
    }
    return null;
  }

  /**
   * Whether every endpoint answers, one of them as leader, and every applied index is within {@code
   * gap} entries of the leader's: the cluster is whole again.
   */
  boolean healthy(long gap) {
    List<NodeView> views = fresh();
    NodeView leader = leader();
    if (leader == null || views.size() < endpoints.size()) {
      return false;
    }
    for (NodeView v : views) {
      String role = v.status().getRole();
      if (!"LEADER".equals(role) && !"FOLLOWER".equals(role)) {
        return false;
      }
      if (leader.status().getAppliedIndex() - v.status().getAppliedIndex() > gap) {
        return false;
      }
    }
    return true;
  }

  /**
   * Polls until {@link #healthy}; false if {@code timeoutMillis} passed first. (Safe beside the
   * monitor's own polling: the views are only ever replaced by newer ones.)
   */
  boolean awaitHealthy(long gap, long timeoutMillis) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (System.nanoTime() < until) {
      poll();
      if (healthy(gap)) {
        return true;
      }
      Thread.sleep(POLL_MILLIS);
    }
    return healthy(gap);
  }

  /** One line per node: id, role, term, applied index (or "no answer"), for error messages. */
  String describe() {
    StringBuilder sb = new StringBuilder();
    synchronized (latest) {
      for (int i = 0; i < latest.length; i++) {
        NodeView v = latest[i];
        sb.append(String.format("%n  %s: ", endpoints.get(i)));
        sb.append(
            v == null
                ? "no answer"
                : String.format(
                    "%s %s term %d applied %d (%.1f s ago)",
                    v.status().getNodeId(),
                    v.status().getRole(),
                    v.status().getTerm(),
                    v.status().getAppliedIndex(),
                    (System.nanoTime() - v.atNanos()) / 1e9));
      }
    }
    return sb.toString();
  }

  @Override
  public void close() {
    for (ManagedChannel ch : channels) {
      ch.shutdownNow();
    }
  }
}
